"""``python -m tests.replay``: serve the replay API server in this process until stopped.

Prints one JSON line once serving: ``{"url", "ca_pem_path", "token", "kubeconfig", "pid"}``.
Stops on SIGTERM/SIGINT, or on stdin EOF with ``--watch-stdin``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time

from .generate import generate_cluster
from .server import ReplayServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.replay", description=__doc__)
    parser.add_argument("--pods", type=int, default=0, help="generated pods (0: recorded only)")
    parser.add_argument("--nodes", type=int, default=0, help="generated nodes")
    parser.add_argument("--namespaces", type=int, default=None, help="default: 1 per 200 pods")
    parser.add_argument("--pods-per-deployment", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--keep-recorded", action="store_true", help="add generated objects to the recorded ones"
    )
    parser.add_argument("--token", default="admin-token", help="bearer token for identity admin")
    parser.add_argument("--kubeconfig", help="also write a kubeconfig (token auth) here")
    parser.add_argument("--version", dest="git_version", help="serve this /version gitVersion")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--no-compress", action="store_true", help="never gzip answers")
    parser.add_argument("--watch-stdin", action="store_true", help="exit when stdin closes")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    srv = ReplayServer({args.token: "admin"}, compress=not args.no_compress, port=args.port)
    if args.git_version:
        srv.set_version(args.git_version)
    if args.pods or args.nodes:
        cluster = generate_cluster(
            nodes=args.nodes,
            pods=args.pods,
            namespaces=args.namespaces,
            pods_per_deployment=args.pods_per_deployment,
            seed=args.seed,
        )
        srv.load(cluster.collections, replace=not args.keep_recorded)
        del cluster

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if args.watch_stdin:

        def watch() -> None:
            sys.stdin.read()
            stop.set()

        threading.Thread(target=watch, name="stdin-watch", daemon=True).start()

    with srv:
        kubeconfig = None
        if args.kubeconfig:
            kubeconfig = str(srv.write_kubeconfig(args.kubeconfig, token=args.token))
        info = {
            "url": srv.url,
            "ca_pem_path": str(srv.ca_pem_path),
            "token": args.token,
            "kubeconfig": kubeconfig,
            "pid": os.getpid(),
            "startup_seconds": round(time.perf_counter() - started, 3),
        }
        print(json.dumps(info), flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
