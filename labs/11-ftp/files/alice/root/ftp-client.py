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

        # TODO 1: change into FTP_DIR (ftp.cwd). When it is missing, the server answers with a
        #         550 error (ftplib raises error_perm): create it (ftp.mkd), then change into it.

        # TODO 2: upload UPLOAD_TEXT as a file called UPLOAD_NAME. ftp.storbinary takes a
        #         command and a file object: ftp.storbinary(f"STOR {name}", io.BytesIO(data))

        # TODO 3: list the directory and print the name of every entry (ftp.nlst()).

        # TODO 4: download UPLOAD_NAME back into memory and print its text. ftp.retrbinary
        #         calls a function with every chunk it receives, e.g.
        #         chunks = []
        #         ftp.retrbinary(f"RETR {name}", chunks.append)
        _ = (io, error_perm)


try:
    main()
except Exception as err:  # print the reason, exit with 1
    print(f"{type(err).__name__}: {err}", file=sys.stderr)
    sys.exit(1)
