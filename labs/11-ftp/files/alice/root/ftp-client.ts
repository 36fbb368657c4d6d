// Alice's FTP client in TypeScript, with the basic-ftp library (which only speaks passive mode).
//
// Node.js is not installed on Alice's laptop. `npx hurrynet check` runs this file for you, with
// Node.js and basic-ftp, in a container that shares Alice's network: same address, same home
// router, same NAT. The check shows everything the script prints. It passes these settings in
// the environment:
//   FTP_HOST, FTP_USER, FTP_PASSWORD   where to log in (Bob's file store)
//   FTP_DIR                            the directory from your task card
//   UPLOAD_NAME, UPLOAD_TEXT           a file name and its text, new for every check
import { Client } from 'basic-ftp';
import { Readable, Writable } from 'node:stream';

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

async function main(): Promise<void> {
  const client = new Client(10000);
  client.ftp.verbose = true; // print every command and reply
  try {
    await client.access({ host: env('FTP_HOST'), user: env('FTP_USER'), password: env('FTP_PASSWORD') });

    // TODO 1: change into FTP_DIR, creating it when it is missing (client.ensureDir does both).

    // TODO 2: upload UPLOAD_TEXT as a file called UPLOAD_NAME:
    //         client.uploadFrom(Readable.from([text]), name)

    // TODO 3: list the directory and print the name of every entry (client.list()).

    // TODO 4: download UPLOAD_NAME back into memory and print its text. client.downloadTo()
    //         takes a Writable: collect the chunks it writes, e.g.
    //         const chunks: Buffer[] = [];
    //         const sink = new Writable({ write(chunk, _enc, done) { chunks.push(chunk); done(); } });
    void Readable;
    void Writable;
  } finally {
    client.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
