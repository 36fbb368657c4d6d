// Lab 12 on a real engine: Bob's unfinished pipeline fails every check but the error handling;
// a lost upload hidden from the service's records, a canned stream (also one whose playlist lies
// about its length), and a service patched to skip the store fail the checks that catch them, for
// the right reasons; tricks on Alice's laptop change nothing; the reference solution passes for two
// learners; and a store that goes down loses no upload.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stop } from '../../orchestrator/runtime/engine.js';
import { projectRoot } from '../../orchestrator/runtime/paths.js';
import { varsFor } from '../../orchestrator/labs/lab.js';
import lab from '../../labs/12-video-service/lab.js';
import { apply, explain, failedIds, grade, solutionDir, start, submissionFolder, type LabRun } from './lab-harness.js';
import { driver, eventually, sh } from './helpers.js';

const I = 't-lab12';
// A web.sh that restarts the service (node) took longer than the default 60 s on a machine other
// tests load too: give the scripts room, and the tests that grade three times the time for it.
process.env.HURRYNET_SCRIPT_TIMEOUT ??= '240';
/** Bob's working transcoder, as the web image ships it (the lab breaks it in place at start). */
const transcoder = readFileSync(join(projectRoot(), 'images/web/app/video/transcode.sh'), 'utf8');

afterAll(async () => {
  await stop(driver, I);
});

/** Sets the store and the segment length right, from the task card on the web node. */
const honestConfig = `
task() { sed -n "s/^$1: //p" /root/TASK.txt; }
S=$(task segment_seconds) F=$(task store_folder) node -e '
  const fs = require("fs"); const f = "/srv/web/video/config.json"; const c = JSON.parse(fs.readFileSync(f, "utf8"));
  c.store = { host: "10.0.1.21", port: 21, user: "bob", password: "bobpass", folder: process.env.F };
  c.hls.segmentSeconds = Number(process.env.S); fs.writeFileSync(f, JSON.stringify(c));'
`;

describe('lab 12: the video service', () => {
  let run: LabRun;

  it(
    'fails untouched: the store refuses, so nothing is stored or streamed; bad uploads still get JSON errors',
    { timeout: 300_000 },
    async () => {
      run = await start('12', I, 'seed-x');
      expect(run.vars).toMatchObject({ storeFault: 'port', wrongValue: 20, hlsFault: 'window', segmentSeconds: 2 });
      const report = await grade(run);
      expect(report.passed).toBe(false);
      expect(failedIds(report), explain(report)).toEqual(['upload', 'stored', 'playlist', 'segments', 'no-loss']);
      const result = (id: string) => report.results.find((r) => r.id === id);
      expect(result('upload')?.reason).toMatch(
        /503: the file store did not take the upload: .*ECONNREFUSED 10\.0\.1\.21:20/,
      );
      expect(result('no-loss')?.reason).toMatch(/never reached the store/);
      // check shows the first hint level only: where to look, not the fix.
      expect(result('segments')?.hints).toHaveLength(1);
      expect(result('segments')?.hints?.[0]).toMatch(/the 2 s your task card asks for/);
      // The grader views Bob's service from a fresh machine on Alice's LAN.
      expect(result('errors')?.evidence[0]?.where).toBe('fresh@lan');
      expect(report.ms).toBeLessThan(15000 * (report.timeScale ?? 1));
    },
  );

  it("fails an upload that was lost and then struck from the service's records", { timeout: 300_000 }, async () => {
    // The learner deletes what the service kept while the store was down (among it the lab's own
    // upload from the start) and every record of it, then fixes the pipeline and restarts the
    // service. The records look clean; before, no-loss trusted them and passed.
    await apply(
      run,
      submissionFolder({
        'web.sh': [
          'set -e',
          'pid=$(pgrep -o -x node); kill "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done',
          'rm -f /srv/web/data/video/spool/*',
          `node -e 'const fs = require("fs"); const f = "/srv/web/data/video/videos.json"; const s = JSON.parse(fs.readFileSync(f, "utf8")); s.videos = s.videos.filter((v) => v.state !== "waiting-for-store"); fs.writeFileSync(f, JSON.stringify(s));'`,
          honestConfig,
          `cat > /srv/web/video/transcode.sh <<'SCRIPT'\n${transcoder}SCRIPT`,
          'cd /srv/web && setsid -f bash -c "exec node server.js >>/var/log/web/server.log 2>&1" </dev/null',
          'for i in $(seq 100); do listening tcp 80 && break; sleep 0.1; done',
        ].join('\n'),
      }),
    );
    const report = await grade(run);
    expect(failedIds(report), explain(report)).toEqual(['no-loss']);
    expect(report.results.find((r) => r.id === 'no-loss')?.reason).toMatch(
      /the upload the service accepted at the start of the lab \(holiday\.mp4, kept while the store was broken\) never reached the store, and the service's records no longer list it: it was lost/,
    );
  });

  it(
    'fails a canned stream (made once from the sample), one whose playlist lies about its length, and a service patched to skip the store',
    { timeout: 600_000 },
    async () => {
      // 1. The store fixed honestly, but the "transcoder" copies a stream made once from the 6 s
      //    sample clip; a root learner on alice also points the name at herself and redirects Bob's
      //    address to a port of her own. The grader's fresh machine on her LAN is not fooled, so
      //    the upload and the stored file still count.
      await sh(
        I,
        'alice',
        "echo '127.0.0.1 web.bob.example' >> /etc/hosts; iptables -t nat -A OUTPUT -d 198.51.100.80 -p tcp --dport 80 -j REDIRECT --to-ports 9",
      );
      await apply(
        run,
        submissionFolder({
          'web.sh': [
            'set -e',
            honestConfig,
            'curl -sSf -o /tmp/sample.mp4 http://127.0.0.1/sample.mp4',
            'mkdir -p /srv/canned',
            `ffmpeg -nostdin -v error -y -i /tmp/sample.mp4 -c:v libx264 -force_key_frames "expr:gte(t,n_forced*2)" -f hls -hls_time 2 -hls_playlist_type vod -hls_segment_filename '/srv/canned/segment%03d.ts' /srv/canned/index.m3u8`,
            'printf \'#!/bin/bash\\ncp /srv/canned/* "$2"/\\n\' > /srv/web/video/transcode.sh',
          ].join('\n'),
        }),
      );
      let report = await grade(run);
      // no-loss still fails: the upload lost in the test before stays lost.
      expect(failedIds(report), explain(report)).toEqual(['playlist', 'segments', 'no-loss']);
      expect(report.results.find((r) => r.id === 'playlist')?.reason).toMatch(
        /adding up to 6 s, but the uploaded clip lasts/,
      );
      expect(report.results.find((r) => r.id === 'upload')?.evidence.map((e) => e.where)).toContain('fresh@lan');

      // 1b. The same canned segments behind a playlist whose #EXTINF lines claim the uploaded
      //     clip's length (read with ffprobe) in segments of the task's length. Before, this passed
      //     everything: the checks believed #EXTINF, and ffprobe on the web node sums them too.
      await apply(
        run,
        submissionFolder({
          'web.sh': [
            'set -e',
            "cat > /srv/web/video/transcode.sh <<'SCRIPT'",
            '#!/bin/bash',
            'set -euo pipefail',
            'out=$2; seconds=$3',
            'd=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$1")',
            'cp /srv/canned/*.ts "$out"/',
            `awk -v d="$d" -v s="$seconds" 'BEGIN { print "#EXTM3U"; print "#EXT-X-TARGETDURATION:" s; print "#EXT-X-PLAYLIST-TYPE:VOD"; i = 0; while (d > 0.01) { x = (d > s ? s : d); printf "#EXTINF:%.3f,\\nsegment%03d.ts\\n", x, i % 3; d -= x; i++ } print "#EXT-X-ENDLIST" }' > "$out/index.m3u8"`,
            'SCRIPT',
          ].join('\n'),
        }),
      );
      report = await grade(run);
      expect(failedIds(report), explain(report)).toEqual(['playlist', 'segments', 'no-loss']);
      expect(report.results.find((r) => r.id === 'playlist')?.reason).toMatch(
        /#EXTINF lines add up to [\d.]+ s, but its segments hold 6 s of video/,
      );
      expect(report.results.find((r) => r.id === 'segments')?.reason).toMatch(
        /is listed as [\d.]+ s, but its frames' timestamps span 2 s/,
      );

      // 2. A real transcoder, but the service patched to pretend the store took the file.
      await apply(
        run,
        submissionFolder({
          'web.sh': [
            'set -e',
            `cat > /srv/web/video/transcode.sh <<'SCRIPT'\n${transcoder}SCRIPT`,
            "sed -i 's|const stored = await storeFile(config.store, video.spool, video.storedName);|const stored = storeUrl(config.store, video.storedName);|' /srv/web/video.js",
            'grep -q "const stored = storeUrl" /srv/web/video.js',
            'pid=$(pgrep -o -x node); kill "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done',
            'cd /srv/web && setsid -f bash -c "exec node server.js >>/var/log/web/server.log 2>&1" </dev/null',
            'for i in $(seq 100); do listening tcp 80 && break; sleep 0.1; done',
          ].join('\n'),
        }),
      );
      report = await grade(run);
      expect(failedIds(report), explain(report)).toEqual(['stored', 'no-loss']);
      expect(report.results.find((r) => r.id === 'stored')?.reason).toMatch(/the store has no/);
      expect(report.results.find((r) => r.id === 'no-loss')?.reason).toMatch(
        /reached the store, but the store does not have/,
      );
    },
  );

  it('passes the reference solution, for two different learners', { timeout: 300_000 }, async () => {
    for (const seed of ['seed-x', 'seed-n']) {
      run = await start('video-service', I, seed);
      await apply(run, solutionDir(run));
      const report = await grade(run);
      expect(report.passed, explain(report)).toBe(true);
      expect(report.score).toBe(report.maxScore);
      expect(report.ms).toBeLessThan(15000 * (report.timeScale ?? 1));
    }
    expect(run.vars).toMatchObject({ storeFault: 'host-public', segmentSeconds: 4 });
  });

  it(
    'answers bad uploads with JSON errors, and keeps an upload while the store is down until it is back',
    { timeout: 300_000 },
    async () => {
      const U = 'http://web.bob.example/upload';
      const status = async (form: string) => {
        const r = await sh(I, 'alice', `curl -sS -o /tmp/body -w '%{http_code}' ${form} ${U}; echo; cat /tmp/body`);
        const [code, ...body] = r.stdout.split('\n');
        return {
          code: Number(code),
          json: JSON.parse(body.join('\n')) as { error?: string; id?: string; kept?: boolean },
        };
      };
      await sh(
        I,
        'alice',
        'curl -sSf -o /tmp/clip.mp4 http://web.bob.example/sample.mp4 && printf "not a video\\n" > /tmp/notes.txt',
      );
      const noPart = await status('-F note=hi');
      expect(noPart.code).toBe(400);
      expect(noPart.json.error).toMatch(/no file part/);
      const emptyName = await status(`-F 'file=@/tmp/clip.mp4;filename=;type=application/octet-stream'`);
      expect(emptyName.code).toBe(400);
      expect(emptyName.json.error).toMatch(/empty file name/);
      const notVideo = await status(`-F 'file=@/tmp/notes.txt;filename=clip.mp4'`);
      expect(notVideo.code).toBe(415);
      expect(notVideo.json.error).toMatch(/not a video/);

      // The store goes down: the upload is answered 503 with Retry-After, and kept.
      await sh(I, 'ftp', 'iptables -I INPUT -p tcp --dport 21 -j REJECT --reject-with tcp-reset');
      const r = await sh(
        I,
        'alice',
        `curl -sS -D /tmp/headers -o /tmp/body -F file=@/tmp/clip.mp4 ${U}; cat /tmp/headers /tmp/body`,
      );
      expect(r.stdout).toMatch(/^HTTP\/1\.1 503/);
      expect(r.stdout).toMatch(/^Retry-After: \d+/im);
      const down = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { error: string; id: string; kept: boolean };
      expect(down.error).toMatch(/file store .*ECONNREFUSED/);
      expect(down.kept).toBe(true);
      expect((JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { retry: string }).retry).toMatch(
        /tries again every 5 s, and at once when config\.json changes/,
      );
      expect((await sh(I, 'web', `test -s /srv/web/data/video/spool/${down.id}.mp4`)).exitCode).toBe(0);

      // Back up: the service retries on its own, the file lands in the learner's folder and streams.
      await sh(I, 'ftp', 'iptables -D INPUT -p tcp --dport 21 -j REJECT --reject-with tcp-reset');
      const folder = varsFor(lab, run.seed).folder;
      const arrived = await eventually(
        async () => (await sh(I, 'ftp', `test -s /home/bob/${folder}/${down.id}.mp4`)).exitCode === 0,
        15000,
        500,
      );
      expect(arrived).toBe(true);
      const ready = await eventually(
        async () =>
          (await sh(I, 'alice', `curl -sS ${U.replace('/upload', `/videos/${down.id}`)}`)).stdout.includes(
            '"state":"ready"',
          ),
        10000,
        500,
      );
      expect(ready).toBe(true);
      expect((await sh(I, 'web', `test -e /srv/web/data/video/spool/${down.id}.mp4`)).exitCode).not.toBe(0);

      // A wrong setting, then its fix: the kept upload is retried as soon as config.json changes.
      await sh(I, 'web', `sed -i 's/"port": 21/"port": 2121/' /srv/web/video/config.json`);
      const wrong = await status('-F file=@/tmp/clip.mp4');
      expect(wrong.code).toBe(503);
      await sh(I, 'web', `sed -i 's/"port": 2121/"port": 21/' /srv/web/video/config.json`);
      const fixedAt = Date.now();
      expect(
        await eventually(
          async () => (await sh(I, 'ftp', `test -s /home/bob/${folder}/${wrong.json.id}.mp4`)).exitCode === 0,
          15000,
          250,
        ),
      ).toBe(true);
      process.stderr.write(`[lab-12] a kept upload reached the store ${Date.now() - fixedAt} ms after the fix\n`);
      expect(
        (
          await sh(
            I,
            'web',
            `grep -c 'retrying every 5 s, and at once when config.json changes' /var/log/web/video.log`,
          )
        ).stdout.trim(),
      ).not.toBe('0');
    },
  );
});
