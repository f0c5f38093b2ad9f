import { describe, expect, it } from 'vitest';
import type { AptFacts } from '../../scripts/apt-package.js';
import { planPspp } from '../../scripts/pspp.js';

const missing: AptFacts = { present: false, root: false, passwordlessSudo: false, aptGet: true };

describe('planPspp (npm pretest, for the SPSS file tests)', () => {
  it('uses pspp where it is', () => {
    expect(planPspp({ ...missing, present: true })).toEqual({ action: 'present' });
  });

  it("installs Debian's pspp with apt-get as root, or through passwordless sudo", () => {
    expect(planPspp({ ...missing, root: true })).toEqual({
      action: 'install',
      path: '/usr/bin/pspp',
      commands: [
        ['apt-get', 'update'],
        ['apt-get', 'install', '-y', '--no-install-recommends', 'pspp'],
      ],
    });
    const plan = planPspp({ ...missing, passwordlessSudo: true });
    expect(plan.action === 'install' && plan.commands.map((c) => c.slice(0, 3))).toEqual([
      ['sudo', '-n', 'apt-get'],
      ['sudo', '-n', 'apt-get'],
    ]);
  });

  it('names the command to run when it cannot install', () => {
    const plan = planPspp(missing);
    expect(plan.action === 'fail' && plan.message).toBe(
      "pspp not found on the PATH. The SPSS file tests read every written .sav back with Debian's pspp; " +
        'install it as root: apt-get update && apt-get install -y --no-install-recommends pspp.',
    );
    expect(planPspp({ ...missing, root: true, aptGet: false })).toEqual({
      action: 'fail',
      message:
        "pspp not found on the PATH and apt-get is not available to install it. The SPSS file tests read every written .sav back with Debian's pspp: install it.",
    });
  });
});
