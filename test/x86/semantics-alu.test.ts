// Differential test of integer ALU and data-movement semantics against the host CPU: ADD/ADC/SUB/
// SBB/AND/OR/XOR/CMP/TEST, INC/DEC/NEG/NOT, XADD/CMPXCHG/XCHG, CBW..CQO, MOVZX/MOVSX/MOVSXD, LEA and
// BSWAP, in 64-bit mode and (where the form exists) 32-bit protected mode. See native/semantics-lib.ts.

import { aluForms, dataForms } from './native/forms.js';
import { defineSemanticsSuite } from './native/semantics-lib.js';

defineSemanticsSuite('x86 semantics vs host: ALU and data movement', [...aluForms(), ...dataForms()], {
  seed: 0xa1a1a1a1, tag: 'alu', cases64: 28, cases32: 10,
});
