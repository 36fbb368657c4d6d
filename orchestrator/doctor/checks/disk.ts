// Free space where the engine keeps its images: a first build needs about 1.5 GB.
import { finding, gb, isError, ok, remoteNote, type Check, type DoctorInputs } from '../findings.js';

export const IMAGES_BYTES = 1.5e9;
/** Room a running lab needs once the images exist (logs are capped, captures are small). */
export const LAB_BYTES = 0.5e9;

function imagesBuilt(inputs: DoctorInputs): boolean | undefined {
  if (!inputs.images || isError(inputs.images)) return undefined;
  return inputs.images.missing.length === 0;
}

export const disk: Check = (inputs) => {
  const title = 'Free disk';
  if (!inputs.disk) return [];
  if (isError(inputs.disk))
    return [
      finding(
        'disk',
        title,
        'unknown',
        inputs.engineLocal ? `cannot read the free space: ${inputs.disk.error}` : remoteNote(inputs),
        `Make sure the engine has about ${gb(IMAGES_BYTES)} free for the images (docker system df shows what it uses; Docker Desktop: Settings, Resources).`,
      ),
    ];
  const { path, freeBytes } = inputs.disk;
  const built = imagesBuilt(inputs);
  const need = built ? LAB_BYTES : IMAGES_BYTES;
  const detail = `${gb(freeBytes)} free on ${path}${built ? ' (the images are built)' : ''}`;
  if (freeBytes >= need) return [ok('disk', title, detail)];
  return [
    finding(
      'disk',
      title,
      built === false ? 'fail' : 'warn',
      `${detail}; ${built ? 'a lab' : 'building the images'} needs about ${gb(need)}`,
      `Free space on ${path}: docker system prune removes stopped containers and unused images, hurrynet clean --images removes hurrynet's.`,
    ),
  ];
};
