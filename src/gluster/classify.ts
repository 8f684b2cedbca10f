import type { ErrorClass } from './errors.ts';

/**
 * Turns what a failed command printed into an error class. Retryable means "the same command, unchanged,
 * may succeed later": glusterd's cluster lock was busy, glusterd or a peer was unreachable for a moment, a
 * request timed out. Everything else is permanent, including messages we do not recognise: an unknown
 * failure surfaced to a human beats a silent retry loop that eats space (heketi's repeated failed creates).
 * The patterns are real texts from glusterd 10 and LVM2 (see test/fixtures).
 */
export type FailureReason =
  | 'lock-busy'
  | 'daemon-unreachable'
  | 'transport-disconnected'
  | 'peer-not-ready'
  | 'timeout'
  | 'validation-unspecified'
  | 'already-exists'
  | 'already-started'
  | 'not-started'
  | 'brick-in-use'
  | 'no-such-device'
  | 'not-found'
  | 'device-mapper-missing'
  | 'invalid-argument'
  | 'unknown';

interface Rule {
  reason: FailureReason;
  errorClass: ErrorClass;
  pattern: RegExp;
}

// Order matters: the first match wins, so specific texts come before generic ones ("No such device" is
// part of LVM's device-mapper complaint).
const RULES: readonly Rule[] = [
  // "Another transaction is in progress for r3. Please try again after some time." (mgmt_v3 volume lock)
  // and the older cluster-lock wording "Another transaction could be in progress."
  { reason: 'lock-busy', errorClass: 'retryable', pattern: /Another transaction (is|could be) in progress/i },
  // "Locking failed on 10.77.0.12. Please check log file for details." / "Unlocking failed on ..."
  { reason: 'lock-busy', errorClass: 'retryable', pattern: /\b(Un)?Locking failed\b/i },
  // "Commit failed on 10.77.0.13. ... lock" and "Staging failed on ..." when a peer held a lock.
  { reason: 'lock-busy', errorClass: 'retryable', pattern: /\b(Commit|Staging) failed\b.*\block/is },
  { reason: 'lock-busy', errorClass: 'retryable', pattern: /\block(ed)? (is )?(held|busy)\b|Unable to acquire lock/i },
  // gluster CLI when glusterd is down or restarting.
  { reason: 'daemon-unreachable', errorClass: 'retryable', pattern: /Connection failed\. Please check if gluster daemon is operational/i },
  { reason: 'daemon-unreachable', errorClass: 'retryable', pattern: /Connection (reset|refused)|ECONNRESET|ECONNREFUSED/i },
  // "Probe returned with Transport endpoint is not connected"; brick/peer RPC dropped.
  { reason: 'transport-disconnected', errorClass: 'retryable', pattern: /Transport endpoint is not connected/i },
  // "Host 10.77.0.12 is not in 'Peer in Cluster' state": a probe still settling.
  { reason: 'peer-not-ready', errorClass: 'retryable', pattern: /is not in '?Peer in Cluster'? state|Peer .* is not connected|peer .* (is )?disconnected/i },
  // gluster CLI: "Error : Request timed out"; our transports: "timed out after N ms".
  { reason: 'timeout', errorClass: 'retryable', pattern: /\btimed out\b|\btimeout\b/i },
  // "Pre-validation failed on localhost. Please check log file for details" with no reason attached: seen
  // right after a peer joined ("Failed to convert hostname ... to uuid" in glusterd.log). Permanent causes
  // come with their reason in the text (matched below, since a reason makes the message longer), so this
  // bare form gets the queue's bounded retries and surfaces if it persists.
  { reason: 'validation-unspecified', errorClass: 'retryable', pattern: /^\s*Pre[- ]?validation failed on [^.]+\. Please check log file for details\.?\s*$/i },

  { reason: 'device-mapper-missing', errorClass: 'permanent', pattern: /Required device-mapper target\(s\) not detected|Failure to communicate with kernel device-mapper/i },
  // "Volume X already exists", "A volume group called vg already exists.", "Physical volume ... is already in volume group"
  { reason: 'already-started', errorClass: 'permanent', pattern: /Volume \S+ already started/i },
  { reason: 'brick-in-use', errorClass: 'permanent', pattern: /is already part of a volume|Brick may be containing or be contained by an existing brick|not available\. Brick may be|brick path .* in use/i },
  { reason: 'already-exists', errorClass: 'permanent', pattern: /already exists|already in volume group|already in peer list|without -ff/i },
  { reason: 'not-started', errorClass: 'permanent', pattern: /Volume \S+ is not started/i },
  // "No device found for /dev/loop9." (pvcreate), "No such device" (mount, losetup)
  { reason: 'no-such-device', errorClass: 'permanent', pattern: /No such device|No device found for/i },
  // "Volume does not exist", "Volume group \"vg\" not found", "Failed to find logical volume"
  { reason: 'not-found', errorClass: 'permanent', pattern: /does not exist|not found|Failed to find|No such file or directory/i },
  { reason: 'invalid-argument', errorClass: 'permanent', pattern: /Invalid argument|Usage:|wrong brick type|Incorrect number of bricks|Run `\S+ --help'|unrecognized option|invalid option/i },
];

export interface Classification {
  errorClass: ErrorClass;
  reason: FailureReason;
}

/** Classifies a failure from its message text (gluster's opErrstr, or a command's stderr + stdout). */
export function classifyFailure(text: string): Classification {
  for (const rule of RULES) {
    if (rule.pattern.test(text)) return { errorClass: rule.errorClass, reason: rule.reason };
  }
  return { errorClass: 'permanent', reason: 'unknown' };
}
