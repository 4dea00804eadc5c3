"""The harness's firmware image format: what the harness serves as firmware and what charge points check.

OCPP 1.6 leaves the firmware format to the vendor, so the reference charge point and the
harness's own charge point need one they can both make and verify without the transfer
servers. Version 1, as :func:`make_firmware_image` writes it::

    OCPP16-HARNESS-FIRMWARE 1\\n     magic line
    version: <version>\\n             printable ASCII, 1..50 characters (CiString50, as BootNotification's)
    payload: <n>\\n                   payload length in bytes, decimal
    \\n                               end of the header
    <n bytes>                        SHAKE-256 stream of b"ocpp16-harness-firmware:" + version
    <32 bytes>                       SHA-256 digest of everything before it (header + payload)

A corrupt image (:func:`corrupt_firmware_image`) has the same size and header but one
payload byte flipped, so only the checksum reveals it: the installation-failed cases.

To publish images on a central system's own file server (TC_044_x_CSMS)::

    python -m harness.firmware_image 1.2.3 65536 firmware-1.2.3.bin
    python -m harness.firmware_image 1.2.3 65536 firmware-1.2.3-corrupt.bin --corrupt
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

__all__ = ["make_firmware_image", "corrupt_firmware_image", "verify_firmware_image", "firmware_version", "main"]

_MAGIC = b"OCPP16-HARNESS-FIRMWARE 1\n"
_DIGEST = 32


def _header(version: str, payload: int) -> bytes:
    return _MAGIC + f"version: {version}\npayload: {payload}\n\n".encode("ascii")


def _payload_length(version: str, size: int) -> int:
    if not (1 <= len(version) <= 50 and version.isascii() and version.isprintable()):
        raise ValueError(f"firmware version must be 1..50 printable ASCII characters, not {version!r}")
    for digits in range(1, 20):
        n = size - len(_header(version, 0)) + 1 - digits - _DIGEST
        if n >= 0 and len(str(n)) == digits:
            return n
    raise ValueError(f"a firmware image of version {version!r} needs at least "
                     f"{len(_header(version, 0)) + _DIGEST} bytes, not {size}")


def make_firmware_image(version: str, size: int) -> bytes:
    """A valid image of exactly ``size`` bytes announcing ``version`` (same inputs, same bytes)."""
    n = _payload_length(version, size)
    body = _header(version, n) + hashlib.shake_256(b"ocpp16-harness-firmware:" + version.encode()).digest(n)
    return body + hashlib.sha256(body).digest()


def corrupt_firmware_image(version: str, size: int) -> bytes:
    """:func:`make_firmware_image` with one payload byte flipped: same size and header, bad checksum."""
    image = bytearray(make_firmware_image(version, size))
    at = len(_header(version, _payload_length(version, size)))
    at = at if at < len(image) - _DIGEST else len(image) - 1  # no payload: spoil the digest itself
    image[at] ^= 0xFF
    return bytes(image)


def verify_firmware_image(data: bytes) -> str | None:
    """None when ``data`` is a valid image; otherwise why not, in words."""
    if not data.startswith(_MAGIC):
        return f"not a harness firmware image (no {_MAGIC[:-1].decode()!r} magic line)"
    end = data.find(b"\n\n", len(_MAGIC) - 1)
    if end < 0:
        return "the header is not terminated by an empty line"
    fields = dict(line.partition(": ")[::2] for line in data[len(_MAGIC):end].decode("ascii", "replace").split("\n"))
    if "version" not in fields or not fields.get("payload", "").isdigit():
        return f"the header lacks 'version' or a numeric 'payload': {sorted(fields)}"
    expected = end + 2 + int(fields["payload"]) + _DIGEST
    if len(data) != expected:
        return f"the image is {len(data)} bytes but its header announces {expected}"
    computed = hashlib.sha256(data[:-_DIGEST]).hexdigest()
    if computed != data[-_DIGEST:].hex():
        return f"SHA-256 mismatch: trailer {data[-_DIGEST:].hex()}, computed {computed}"
    return None


def firmware_version(data: bytes) -> str | None:
    """The version a (valid or corrupt) image announces in its header; None for anything else."""
    if not data.startswith(_MAGIC):
        return None
    line = data[len(_MAGIC):].split(b"\n", 1)[0].decode("ascii", "replace")
    return line[len("version: "):] if line.startswith("version: ") else None


def main(argv: list[str] | None = None) -> None:
    """Write an image file (valid, or with ``--corrupt`` one that fails verification)."""
    parser = argparse.ArgumentParser(prog="python -m harness.firmware_image", description=main.__doc__)
    parser.add_argument("version", help="the version the image announces (1..50 printable ASCII characters)")
    parser.add_argument("size", type=int, help="the image's size in bytes")
    parser.add_argument("output", type=Path, help="the file to write")
    parser.add_argument("--corrupt", action="store_true", help="flip one payload byte: the checksum fails")
    args = parser.parse_args(argv)
    make = corrupt_firmware_image if args.corrupt else make_firmware_image
    try:
        data = make(args.version, args.size)
    except ValueError as exc:
        parser.error(str(exc))
    args.output.write_bytes(data)
    print(f"{args.output}: {len(data)} bytes, version {args.version!r}, sha256 {hashlib.sha256(data).hexdigest()}"
          + (" (corrupt)" if args.corrupt else ""))


if __name__ == "__main__":
    main()
