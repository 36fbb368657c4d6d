#!/bin/bash
# Reference solution for lab 11, on Bob's file store, for any seed: in passive mode vsftpd must
# announce the public address clients reach it at (ftp.bob.example), not an address of its own.
set -euo pipefail
public=$(dig +short ftp.bob.example A | tail -n 1)
[ -n "$public" ] || { echo "cannot resolve ftp.bob.example" >&2; exit 1; }
grep '^pasv' /etc/vsftpd.conf
if ! grep -qx "pasv_address=$public" /etc/vsftpd.conf; then
  sed -i '/^pasv_address=/d' /etc/vsftpd.conf
  echo "pasv_address=$public" >> /etc/vsftpd.conf
  kill $(pidof vsftpd)
  for _ in $(seq 1 50); do listening tcp 21 || break; sleep 0.1; done
  vsftpd /etc/vsftpd.conf
  for _ in $(seq 1 50); do listening tcp 21 && break; sleep 0.1; done
  echo "vsftpd restarted with pasv_address=$public"
fi
listening tcp 21
