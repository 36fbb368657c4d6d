// Where the world's services keep their logs, state and configuration on the nodes: one table that
// the service configs (config.ts) and the labs (through labs/kit) share, so a path is written once.
export const FILES = {
  /** Bob's web server: one JSON line per request (see AccessEntry in labs/kit). */
  webAccessLog: '/var/log/web/access.log',
  webLogDir: '/var/log/web',
  webDataDir: '/srv/web/data',
  /** The notes resource of Bob's web server (lab 01). */
  webNotes: '/srv/web/data/notes.json',
  bindQueryLog: '/var/log/named/queries.log',
  dnsmasqLog: '/var/log/dnsmasq.log',
  dnsmasqLeases: '/var/lib/misc/dnsmasq.leases',
  dnsmasqConf: '/etc/hurrynet/dnsmasq.conf',
  vsftpdLog: '/var/log/vsftpd.log',
  vsftpdConf: '/etc/vsftpd.conf',
  birdConf: '/etc/bird/bird.conf',
  ftpRoot: '/srv/ftp',
  /** The learner's own task values, on alice ("key: value" lines). */
  taskCard: '/root/TASK.txt',
  /** The learner's answers, on alice. */
  answers: '/root/answers.yaml',
} as const;
