"""Which S3 client the S3-compatible file store uses: throughput and memory, measured.

    python -m bench.s3_clients [--mib 50]

Starts moto's standalone server (`moto[server]`) on 127.0.0.1, then, each in a fresh child
process, uploads a file of `--mib` MiB as a stream of 64 KiB chunks (as an HTTP upload
arrives) with multipart, and downloads it as a stream, with aiobotocore (the client under
aioboto3, which files/s3.py uses), obstore and the MinIO client (the last two only if
installed: `pip install obstore minio`). Reports MB/s each way and the child's peak RSS
above its RSS once the client was imported and connected. Baseline, same run: the same
bytes written to and read back from a local file. moto is itself Python, so the
throughputs are moto's more than the clients'; the memory figures are the clients' own.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from typing import Any

from tests.support.live_server import free_port

CHUNK = 64 * 1024
PART = 5 * 1024 * 1024  # as files/s3.py
CLIENTS = ("local-disk", "obstore", "aiobotocore", "minio")


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def source(mib: int) -> AsyncIterator[bytes]:
    block = os.urandom(CHUNK)
    for _ in range(mib * 1024 * 1024 // CHUNK):
        yield block


async def run_obstore(endpoint: str, bucket: str, mib: int) -> tuple[float, float, str]:
    obstore = importlib.import_module("obstore")
    store = importlib.import_module("obstore.store").S3Store(
        bucket,
        endpoint=endpoint,
        access_key_id="test",
        secret_access_key="test",
        region="us-east-1",
        client_options={"allow_http": True},
        virtual_hosted_style_request=False,
    )
    await obstore.put_async(store, "warm", b"x")
    base = rss_kib()
    started = time.perf_counter()
    await obstore.put_async(store, "big", source(mib), chunk_size=PART)
    up = time.perf_counter() - started
    digest = hashlib.sha256()
    started = time.perf_counter()
    result = await obstore.get_async(store, "big")
    async for chunk in result.stream(min_chunk_size=256 * 1024):
        digest.update(chunk)
    down = time.perf_counter() - started
    return up, down, f"{digest.hexdigest()[:12]} {(peak_kib() - base) / 1024:.1f} {base / 1024:.1f}"


async def run_aiobotocore(endpoint: str, bucket: str, mib: int) -> tuple[float, float, str]:
    # aioboto3 is a layer over this same client; files/s3.py uses it directly.
    from aiobotocore.session import get_session

    async with get_session().create_client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    ) as s3:
        await s3.put_object(Bucket=bucket, Key="warm", Body=b"x")
        base = rss_kib()
        started = time.perf_counter()
        upload = await s3.create_multipart_upload(Bucket=bucket, Key="big")
        parts, buffer, number = [], bytearray(), 1
        async for chunk in source(mib):
            buffer += chunk
            if len(buffer) >= PART:
                answer = await s3.upload_part(
                    Bucket=bucket,
                    Key="big",
                    UploadId=upload["UploadId"],
                    PartNumber=number,
                    Body=bytes(buffer),
                )
                parts.append({"ETag": answer["ETag"], "PartNumber": number})
                buffer, number = bytearray(), number + 1
        if buffer:
            answer = await s3.upload_part(
                Bucket=bucket,
                Key="big",
                UploadId=upload["UploadId"],
                PartNumber=number,
                Body=bytes(buffer),
            )
            parts.append({"ETag": answer["ETag"], "PartNumber": number})
        await s3.complete_multipart_upload(
            Bucket=bucket,
            Key="big",
            UploadId=upload["UploadId"],
            MultipartUpload={"Parts": parts},
        )
        up = time.perf_counter() - started
        digest = hashlib.sha256()
        started = time.perf_counter()
        answer = await s3.get_object(Bucket=bucket, Key="big")
        body = answer["Body"]
        async for chunk in body.iter_chunks(256 * 1024):
            digest.update(chunk)
        body.close()
        down = time.perf_counter() - started
    return up, down, f"{digest.hexdigest()[:12]} {(peak_kib() - base) / 1024:.1f} {base / 1024:.1f}"


async def run_minio(endpoint: str, bucket: str, mib: int) -> tuple[float, float, str]:
    # The MinIO client is synchronous (urllib3): a server would run it on worker threads.
    import io

    client = importlib.import_module("minio").Minio(
        endpoint.removeprefix("http://"), access_key="test", secret_key="test", secure=False
    )
    await asyncio.to_thread(client.put_object, bucket, "warm", io.BytesIO(b"x"), 1)
    base = rss_kib()

    class Pipe(io.RawIOBase):
        """A readable file over the async source, as a thread would see a request body."""

        def __init__(self, loop: asyncio.AbstractEventLoop, chunks: AsyncIterator[bytes]):
            self.loop, self.chunks, self.left = loop, chunks, b""

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            while len(self.left) < size or size < 0:
                try:
                    self.left += asyncio.run_coroutine_threadsafe(
                        anext_chunk(self.chunks), self.loop
                    ).result()
                except StopAsyncIteration:
                    break
            out, self.left = self.left[:size], self.left[size:]
            return out

    started = time.perf_counter()
    pipe = Pipe(asyncio.get_running_loop(), source(mib))
    readable: Any = pipe
    await asyncio.to_thread(client.put_object, bucket, "big", readable, -1, part_size=PART)
    up = time.perf_counter() - started

    def read_all() -> str:
        digest = hashlib.sha256()
        response = client.get_object(bucket, "big")
        try:
            for chunk in response.stream(256 * 1024):
                digest.update(chunk)
        finally:
            response.close()
            response.release_conn()
        return digest.hexdigest()

    started = time.perf_counter()
    hexdigest = await asyncio.to_thread(read_all)
    down = time.perf_counter() - started
    return up, down, f"{hexdigest[:12]} {(peak_kib() - base) / 1024:.1f} {base / 1024:.1f}"


async def run_local(endpoint: str, bucket: str, mib: int) -> tuple[float, float, str]:
    base = rss_kib()
    with tempfile.NamedTemporaryFile() as handle:
        started = time.perf_counter()
        async for chunk in source(mib):
            handle.write(chunk)
        handle.flush()
        os.fsync(handle.fileno())
        up = time.perf_counter() - started
        digest = hashlib.sha256()
        started = time.perf_counter()
        handle.seek(0)
        while chunk := handle.read(256 * 1024):
            digest.update(chunk)
        down = time.perf_counter() - started
    return up, down, f"{digest.hexdigest()[:12]} {(peak_kib() - base) / 1024:.1f} {base / 1024:.1f}"


async def anext_chunk(chunks: AsyncIterator[bytes]) -> bytes:
    return await anext(chunks)


def child(name: str, endpoint: str, bucket: str, mib: int) -> None:
    runner = {
        "obstore": run_obstore,
        "aiobotocore": run_aiobotocore,
        "minio": run_minio,
        "local-disk": run_local,
    }[name]
    up, down, rest = asyncio.run(runner(endpoint, bucket, mib))
    digest, peak, base = rest.split()
    row = {"up": up, "down": down, "digest": digest, "peak_mib": float(peak), "base": float(base)}
    print(json.dumps(row))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=50)
    parser.add_argument("--child", nargs=3)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.child[2], args.mib)
        return
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    moto = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import httpx

        for _ in range(100):
            try:
                httpx.get(endpoint)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        httpx.put(f"{endpoint}/bench")  # moto accepts an unsigned CreateBucket
        print(
            f"{'client':<11} {'up MB/s':>8} {'down MB/s':>10} {'peak RSS +MiB':>14}"
            f" {'RSS before MiB':>15}"
        )
        for name in CLIENTS:
            command = [sys.executable, "-m", "bench.s3_clients", "--mib", str(args.mib)]
            done = subprocess.run(
                [*command, "--child", name, endpoint, "bench"],
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                print(f"{name:<11} failed ({done.returncode}): {done.stderr.strip()[-300:]}")
                continue
            row = json.loads(done.stdout)
            size = args.mib * 1.048576
            print(
                f"{name:<11} {size / row['up']:>8.1f} {size / row['down']:>10.1f}"
                f" {row['peak_mib']:>14.1f} {row['base']:>15.1f}"
            )
    finally:
        moto.terminate()
        moto.wait(10)


if __name__ == "__main__":
    main()
