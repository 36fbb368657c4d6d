// The standby world kept ready in the background: one that is broken or built from old images
// is never claimed, but it holds memory until removed.
import { finding, isError, ok, type Check } from '../findings.js';

export const standby: Check = (inputs) => {
  const s = inputs.standby;
  if (!s) return [];
  const id = 'standby';
  const title = 'standby world';
  if (isError(s))
    return [finding(id, title, 'unknown', `could not ask the engine: ${s.error}`, 'Fix the engine first (above).')];
  if (!s.enabled && !s.worlds.length) return [ok(id, title, 'turned off (HURRYNET_STANDBY=0 or --no-standby)')];
  if (!s.worlds.length)
    return [ok(id, title, 'none waiting; one is prepared in the background after a lab starts or stops')];
  const bad = s.worlds.filter((w) => !w.healthy || !w.current);
  if (!bad.length)
    return [ok(id, title, `${s.worlds.map((w) => w.instance).join(', ')} is running, from the current images`)];
  const why = bad.map((w) => `${w.instance} ${w.healthy ? 'was built from older images' : 'is not running'}`);
  return [
    finding(
      id,
      title,
      'warn',
      `${why.join('; ')}: it will not be claimed, and holds resources`,
      'Remove it with hurrynet standby --remove; the next lab start prepares a fresh one.',
    ),
  ];
};
