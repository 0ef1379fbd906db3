/**
 * Models include/uapi/asm-generic/errno-base.h and errno.h: the Linux/powerpc errno numbers used by the
 * emulated kernel (kernel-model.md §0.2).
 */
export const errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EIO: 5,
  ENXIO: 6,
  EBADF: 9,
  ENOMEM: 12,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENOTTY: 25,
  ENOSPC: 28,
  EBADFD: 77,
} as const;

export type ErrnoName = keyof typeof errno;

const byNumber = new Map<number, ErrnoName>(Object.entries(errno).map(([k, v]) => [v, k as ErrnoName]));

/** 'EBUSY' for 16 (or -16); undefined for numbers outside the table. */
export function errnoName(n: number): ErrnoName | undefined {
  return byNumber.get(Math.abs(n));
}

/** How a result reads in logs and expectation messages: "0", "1", "-16 EBUSY". */
export function formatRet(ret: number, name?: string | null): string {
  if (ret >= 0) return String(ret);
  return `${ret} ${name ?? errnoName(ret) ?? '?'}`;
}
