"""`python -m bench.inflate [--size 100k] [--repeat 3]`: inflating the gzipped list pages.

Serves the benchmark's cluster, fetches every page the Collector would list with gzip accepted,
keeps the bytes as they came over the wire, then inflates them all with zlib (what httpx uses) and
with ISA-L (what `k8saudit.connection.GunzipWithIsal` uses), and prints the fastest of each.
"""

from __future__ import annotations

import argparse
import ssl
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
from isal import isal_zlib

from bench.cluster import Served, served_cluster
from bench.sizes import parse_sizes

_GZIP_FRAMING = 31


def gzipped_pages(served: Served, page_size: int = 500) -> list[bytes]:
    """Every list page of the served cluster, as gzip bytes (small pages come uncompressed and
    are left out: nobody inflates them)."""
    context = ssl.create_default_context(cafile=served.ca_pem_path)
    headers = {"Authorization": f"Bearer {served.token}", "Accept-Encoding": "gzip"}
    pages = []
    with httpx.Client(base_url=served.url, verify=context, headers=headers, timeout=120) as client:
        for target in served.targets:
            params = {"limit": str(page_size)}
            while True:
                with client.stream("GET", target.path, params=params, headers={"Accept": target.accept}) as r:
                    raw = b"".join(r.iter_raw())
                    gzipped = r.headers.get("content-encoding") == "gzip"
                body = zlib.decompress(raw, _GZIP_FRAMING) if gzipped else raw
                if gzipped:
                    pages.append(raw)
                token = orjson.loads(body)["metadata"].get("continue")
                if not token:
                    break
                params = {"limit": str(page_size), "continue": token}
    return pages


def fastest(inflate: Callable[[bytes], bytes], pages: list[bytes], repeat: int) -> tuple[float, int]:
    """The fastest of `repeat` passes inflating every page, and the bytes it gave."""
    times, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        size = sum(len(inflate(page)) for page in pages)
        times.append(time.perf_counter() - started)
    return min(times), size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inflate", description=__doc__)
    parser.add_argument("--size", default="100k", help="one of the bench sizes (1k, 10k, 100k)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    (size,) = parse_sizes(args.size)
    with tempfile.TemporaryDirectory() as workdir, served_cluster(size, Path(workdir)) as (served, _):
        pages = gzipped_pages(served)
    wire = sum(map(len, pages))
    inflaters = {
        "zlib (httpx)": lambda page: zlib.decompressobj(_GZIP_FRAMING).decompress(page),
        "ISA-L (k8saudit)": lambda page: isal_zlib.decompressobj(wbits=_GZIP_FRAMING).decompress(page),
    }
    print(f"{size.label}: {len(pages)} gzipped pages, {wire / 2**20:.1f} MiB on the wire")
    for name, inflate in inflaters.items():
        seconds, inflated = fastest(inflate, pages, args.repeat)
        print(
            f"  {name:18s} {seconds:6.3f} s  ({inflated / 2**20:,.0f} MiB inflated, fastest of {args.repeat})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
