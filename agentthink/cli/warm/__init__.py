"""The warm process: ``agentthink run`` and ``chat`` answer in about a second after the first.

Importing litellm and LangGraph takes seconds, and the embedded model's llama.cpp server takes
more to start. The first ``run`` or ``chat`` starts a background process (``daemon``) that
imports all of that once, starts the embedded server, and then serves every later command by
forking a copy of itself that runs the command exactly as ``agentthink`` would, on the caller's
terminal (its stdin, stdout and stderr are passed over a Unix socket), in the caller's working
directory and environment. The command line itself (``client``) stays a thin client that
imports only the standard library. Like Ollama, the process stops itself after an idle period
(``AGENTTHINK_WARM_IDLE`` seconds, default 300).

Safe to start twice (a lock file decides which process serves), reachable only by the same
user (a private directory, the peer's uid checked), restarted when agentthink's code changes.
Off with ``--no-warm`` or ``AGENTTHINK_WARM=0``; ``agentthink warm status|start|stop``.
"""
