import { describe, expect, it } from 'vitest';
import {
  busRange,
  bytes,
  hexPad,
  pageSizeLabel,
  pages,
  perm,
  shortCount,
} from '../../renderer/src/composables/format';

describe('formatting for the views', () => {
  it('sizes in binary units', () => {
    expect(bytes(0n)).toBe('0 B');
    expect(bytes(4096)).toBe('4 KiB');
    expect(bytes('0x100000000')).toBe('4 GiB');
    expect(bytes(1536)).toBe('1.5 KiB');
    expect(bytes(1n << 40n)).toBe('1 TiB');
    expect(bytes(4n * 2n ** 30n + 16n * 2n ** 20n)).toBe('4.02 GiB');
  });

  it('hex padded for aligned columns, never cut', () => {
    expect(hexPad('0x800000000000000', 16)).toBe('0x0800000000000000');
    expect(hexPad('0x1', 4)).toBe('0x0001');
    expect(hexPad('0x123456', 4)).toBe('0x123456');
  });

  it('TCE permissions the way the kernel names them', () => {
    expect(perm(0)).toBe('—');
    expect(perm(1)).toBe('R-');
    expect(perm(2)).toBe('-W');
    expect(perm(3)).toBe('RW');
  });

  it('locked_vm pages with their size, bus ranges, page sizes, short counts', () => {
    expect(pages(65536, 65536)).toBe('65,536 (4 GiB)');
    expect(busRange('0x800000000000000', '0x100000000')).toBe('0x800000000000000–0x8000000ffffffff');
    expect(pageSizeLabel(16)).toBe('64 KiB');
    expect(shortCount(512)).toBe('512');
    expect(shortCount(65536)).toBe('65.5k');
    expect(shortCount(16_777_216)).toBe('16.8M');
  });
});
