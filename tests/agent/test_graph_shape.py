"""The compiled graph's shape is a reviewed artefact: an edge change shows up as a diff here."""

from pathlib import Path

from agentthink.graph import build_graph

SNAPSHOT = Path(__file__).with_name("graph.mermaid")


def test_graph_shape_matches_the_snapshot() -> None:
    mermaid = build_graph().get_graph().draw_mermaid()
    assert SNAPSHOT.exists(), (
        f"{SNAPSHOT} is missing: write it with\n"
        "python -c 'from agentthink.graph import build_graph; "
        'print(build_graph().get_graph().draw_mermaid(), end="")\' > tests/agent/graph.mermaid\n'
        "then review and commit it"
    )
    assert mermaid == SNAPSHOT.read_text()
