"""CPU of reading a WARC archive into records (``transforms.file_io.iter_file``), A/B between checkouts.

The archive is built from the extraction benchmark's tuning pages (Scrapinghub, readability, fundus; never
Dragnet, which is measure-only) as one ``.warc.gz`` of a gzip member a record, a quarter of the pages each
plain, gzip-coded, chunked (4 KiB chunks) and chunked gzip (8 KiB), so de-chunking and content decoding are
both timed (``--suffix .warc`` or ``.warc.zst``: the same records as one plain or zstd stream, where the
reader checks each record's start itself). Each checkout reads it ``--repeats`` times in a fresh
process; the best CPU time is printed with a digest of the records, which must agree between checkouts
that read valid records alike.

    nice .venv/bin/python benchmarks/warc_read.py --code /work/main,. --repeats 3
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = Path(__file__).resolve().parents[1].parent / "shared" / "bench" / "extraction"
TUNING = ("scrapinghub", "readability-testpages", "fundus-testpages")


def chunked(body: bytes, size: int) -> bytes:
    parts = [
        b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size]) for i in range(0, len(body), size)
    ]
    return b"".join(parts) + b"0\r\n\r\n"


def build(path: Path) -> int:
    """Writes the archive (a gzip member a record, or by its suffix one plain or zstd stream); its record
    count."""
    members = []
    pages = sorted(p for name in TUNING for p in (PAGES / name / "html").glob("*"))
    for n, page_path in enumerate(pages):
        page = (
            gzip.decompress(page_path.read_bytes()) if page_path.suffix == ".gz" else page_path.read_bytes()
        )
        headers = [b"HTTP/1.1 200 OK", b"Content-Type: text/html; charset=utf-8"]
        body = page
        if n % 4 in (1, 3):
            body = gzip.compress(body, mtime=0)
            headers.append(b"Content-Encoding: gzip")
        if n % 4 in (2, 3):
            body = chunked(body, 4096 if n % 4 == 2 else 8192)
            headers.append(b"Transfer-Encoding: chunked")
        block = b"\r\n".join(headers) + b"\r\n\r\n" + body
        warc = [
            b"WARC/1.0",
            b"WARC-Type: response",
            b"WARC-Target-URI: https://bench.example/%d" % n,
            b"WARC-Date: 2026-11-02T10:20:30Z",
            b"Content-Type: application/http; msgtype=response",
            b"Content-Length: %d" % len(block),
        ]
        members.append(gzip.compress(b"\r\n".join(warc) + b"\r\n\r\n" + block + b"\r\n\r\n", mtime=0))
    if path.suffix == ".warc":
        path.write_bytes(b"".join(gzip.decompress(m) for m in members))
    elif path.suffix == ".zst":
        from backports import zstd

        path.write_bytes(zstd.compress(b"".join(gzip.decompress(m) for m in members)))
    else:
        path.write_bytes(b"".join(members))
    return len(members)


def measure(path: str, repeats: int) -> None:
    """Run inside a checkout: best CPU seconds of reading ``path``, and the records' digest."""
    from transforms.file_io import iter_file

    best, records = float("inf"), []
    for _ in range(repeats):
        started = time.process_time()
        records = list(iter_file(path))
        best = min(best, time.process_time() - started)
    digest = hashlib.sha256(b"".join(getattr(r, "value", b"-") for r in records)).hexdigest()[:16]
    print(f"{best:.3f} {len(records)} {digest}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", default=".", help="comma-separated checkouts to compare")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--suffix", default=".warc.gz", choices=[".warc.gz", ".warc", ".warc.zst"])
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure, args.repeats)
        return
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / f"bench{args.suffix}"
        count = build(archive)
        print(f"{count} records, {archive.stat().st_size:,} bytes")
        for code in args.code.split(","):
            checkout = Path(code).resolve()
            out = subprocess.run(
                [sys.executable, str(ROOT / "benchmarks" / "warc_read.py"), "--measure", str(archive),
                 "--repeats", str(args.repeats)],
                cwd=checkout, env={"PYTHONPATH": str(checkout), "PATH": "/usr/bin:/bin"},
                capture_output=True, text=True, check=True,
            ).stdout.split()  # fmt: skip
            print(f"{checkout}: best {out[0]} CPU-s, {out[1]} records, digest {out[2]}")


if __name__ == "__main__":
    main()
