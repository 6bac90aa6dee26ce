import { z } from 'zod';
import { stepOption } from '@qtdog/core';

/** When and where a weight transform acts: shared by every quantizer plugin. */
export const WeightScheduleOptions = z.object({
  /** Full precision before this step; the transform acts from it on (QT-DoG: 2000 of 5000). */
  startStep: stepOption(z.number().int().min(0), {
    counts: 'step',
    neverReached: 'the weights would never be transformed (a quantizer would leave the run in float)',
    severity: 'error',
  }).default(2000),
  /** Layer name patterns (`*` wildcard); default: every convolution, classifier left in float. */
  layers: z.array(z.string()).optional(),
});

/** Integer grids: bits and per-channel scales, on top of the schedule. */
export const IntegerQuantizerOptions = WeightScheduleOptions.extend({
  /** Bits per weight, 2 to 8 (QT-DoG: 7). */
  bits: z.number().int().min(2).max(8).default(7),
  /** One scale per output channel (QT-DoG) or one per tensor. */
  perChannel: z.boolean().default(true),
});
