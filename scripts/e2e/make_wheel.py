"""Writes a tiny pure-Python wheel, and a PEP 503 simple index page for it, with no network and
no build backend: the package a private index serves in scripts/e2e-build.sh.

Usage: make_wheel.py INDEX_ROOT   → INDEX_ROOT/simple/imggen-probe/{index.html, the wheel}
"""

import base64
import hashlib
import os
import sys
import zipfile

NAME, MODULE, VERSION = "imggen-probe", "imggen_probe", "1.0.0"


def record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def main():
    folder = os.path.join(sys.argv[1], "simple", NAME)
    os.makedirs(folder, exist_ok=True)
    info = f"{MODULE}-{VERSION}.dist-info"
    files = {
        f"{MODULE}/__init__.py": b'"""Served by the e2e private index."""\nSERVED_BY = "imggen e2e"\n',
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: imggen-e2e\nRoot-Is-Purelib: true\n"
                         b"Tag: py3-none-any\n",
        f"{info}/top_level.txt": f"{MODULE}\n".encode(),
    }
    lines = [record_line(path, data) for path, data in files.items()]
    lines.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(lines) + "\n").encode()
    wheel = f"{MODULE}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(folder, wheel), "w") as archive:
        for path, data in files.items():
            archive.writestr(zipfile.ZipInfo(path, date_time=(2026, 1, 1, 0, 0, 0)), data)
    with open(os.path.join(folder, wheel), "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    with open(os.path.join(folder, "index.html"), "w", encoding="utf-8") as f:
        f.write(f'<!DOCTYPE html><html><body><a href="{wheel}#sha256={digest}">{wheel}</a>'
                "</body></html>\n")
    with open(os.path.join(sys.argv[1], "simple", "index.html"), "w", encoding="utf-8") as f:
        f.write(f'<!DOCTYPE html><html><body><a href="{NAME}/">{NAME}</a></body></html>\n')


if __name__ == "__main__":
    main()
