// Whether the lab images of the current content are built (their tags are content hashes).
import { finding, isError, ok, type Check } from '../findings.js';

export const images: Check = (inputs) => {
  const i = inputs.images;
  if (!i) return [];
  const id = 'images';
  const title = 'lab images';
  if (isError(i))
    return [
      finding(
        id,
        title,
        'unknown',
        `could not ask the engine: ${i.error}`,
        'Fix the engine first (above); hurrynet build then builds the images.',
      ),
    ];
  if (!i.missing.length) return [ok(id, title, `all ${i.expected} images of this checkout are built`)];
  return [
    finding(
      id,
      title,
      'warn',
      `${i.missing.length} of ${i.expected} images are not built (${i.missing.join(', ')})${i.rootPresent ? '' : '; the Debian root image is missing too'}`,
      `Run hurrynet build (about two minutes${i.rootPresent ? '' : '; it pulls debian:bookworm-slim, or bootstraps it with mmdebstrap when no registry answers'}); the first up does it too.`,
    ),
  ];
};
