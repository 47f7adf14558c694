// Differential test against the host CPU: MUL/IMUL (one, two and three operands), DIV/IDIV (valid
// quotients, and #DE for zero divisors and quotient overflow), BT/BTS/BTR/BTC (register and
// immediate offsets, register offsets reaching outside a memory operand), BSF/BSR (including a zero
// source: ZF set, destination unchanged) and POPCNT.

import { bitForms, mulDivForms } from './native/forms.js';
import { defineSemanticsSuite } from './native/semantics-lib.js';

defineSemanticsSuite('x86 semantics vs host: multiply, divide, bit operations', [...mulDivForms(), ...bitForms()], {
  seed: 0x3d1f00d5, tag: 'muldiv', cases64: 32, cases32: 12,
});
