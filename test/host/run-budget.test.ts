/** DMAWB_RUN_TIMEOUT_MS: the workbench's run budget in browser mode and the desktop app, checked before use. */
import { describe, expect, it } from 'vitest';
import { runBudgetFromEnv } from '../../host/run-budget.ts';

describe('run budget from DMAWB_RUN_TIMEOUT_MS', () => {
  it('is the default (undefined) when unset or empty, and the number of ms when a whole number', () => {
    expect(runBudgetFromEnv(undefined)).toBeUndefined();
    expect(runBudgetFromEnv('')).toBeUndefined();
    expect(runBudgetFromEnv('1')).toBe(1);
    expect(runBudgetFromEnv('1200000')).toBe(1_200_000);
    expect(runBudgetFromEnv('99999999')).toBe(99_999_999);
  });
  it.each(['0', '-5', '1.5', '30s', ' 30000', '0300', '100000000', '1e6', 'NaN'])(
    'refuses %j, naming the variable',
    (v) => {
      expect(() => runBudgetFromEnv(v)).toThrow(
        /^DMAWB_RUN_TIMEOUT_MS=.*: a whole number of milliseconds from 1 to 99,999,999$/,
      );
    },
  );
});
