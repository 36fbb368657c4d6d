# Reference solution for lab 11's client, in Python: the lab's skeleton (files/alice/root/
# ftp-client.py) with its four TODOs done. Applied after solution/ (whose alice.sh finishes the
# TypeScript client), it makes the grader run this one instead: the Python client is run as soon
# as it differs from the skeleton.
# Alice's FTP client in Python, with ftplib from Python's standard library (passive mode).
#
# Write your client either here or in /root/ftp-client.ts (TypeScript): `npx hurrynet check`
# runs this file as soon as it differs from the skeleton the lab gave you, and ftp-client.ts
# otherwise. To go back to TypeScript, delete this file.
#
# The check runs it with a clean python3 in a container that shares Alice's network: same
# address, same home router, same NAT. You can also run it yourself on Alice's laptop, e.g.
#   FTP_HOST=ftp.bob.example FTP_USER=bob FTP_PASSWORD=bobpass FTP_DIR=/some-dir \
#   UPLOAD_NAME=try.txt UPLOAD_TEXT=hello python3 /root/ftp-client.py
# The check shows everything the script prints. It passes these settings in the environment:
#   FTP_HOST, FTP_USER, FTP_PASSWORD   where to log in (Bob's file store)
#   FTP_DIR                            the directory from your task card
#   UPLOAD_NAME, UPLOAD_TEXT           a file name and its text, new for every check
import io
import os
import sys
from ftplib import FTP, error_perm


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise SystemExit(f"{name} is not set")
    return value


def main() -> None:
    with FTP(timeout=10) as ftp:
        ftp.set_debuglevel(1)  # print every command and reply
        ftp.connect(env("FTP_HOST"))
        ftp.login(env("FTP_USER"), env("FTP_PASSWORD"))

        # 1. Change into FTP_DIR, creating it when the server says it is missing (550).
        folder = env("FTP_DIR")
        try:
            ftp.cwd(folder)
        except error_perm:
            ftp.mkd(folder)
            ftp.cwd(folder)

        # 2. Upload UPLOAD_TEXT as UPLOAD_NAME (passive mode: ftplib's default).
        name = env("UPLOAD_NAME")
        ftp.storbinary(f"STOR {name}", io.BytesIO(env("UPLOAD_TEXT").encode()))

        # 3. List the directory.
        for entry in ftp.nlst():
            print(f"listed: {entry}")

        # 4. Download the file back and print its text.
        chunks: list[bytes] = []
        ftp.retrbinary(f"RETR {name}", chunks.append)
        print(f"downloaded: {b''.join(chunks).decode()}")


try:
    main()
except Exception as err:  # print the reason, exit with 1
    print(f"{type(err).__name__}: {err}", file=sys.stderr)
    sys.exit(1)
