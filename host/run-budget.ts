/**
 * The workbench's run time budget (the engine host's `runTimeoutMs`; 30 s unless set): both the browser-mode
 * server and the desktop app read it from DMAWB_RUN_TIMEOUT_MS, so a run of a million calls (a busy guest's
 * imported trace) can be given the minutes it needs, as `dmawb run --timeout` gives them on the command line.
 */

export const RUN_BUDGET_ENV = 'DMAWB_RUN_TIMEOUT_MS';

/** undefined when unset; the budget in ms when a whole number from 1 to 99,999,999; otherwise throws why */
export function runBudgetFromEnv(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^[1-9]\d{0,7}$/.test(value))
    throw new Error(`${RUN_BUDGET_ENV}=${value}: a whole number of milliseconds from 1 to 99,999,999`);
  return Number(value);
}
