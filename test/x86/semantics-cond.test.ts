// Differential test against the host CPU: SETcc/CMOVcc/Jcc for all 16 conditions on random flags,
// LOOP/LOOPE/LOOPNE/JRCXZ, conditions evaluated after each kind of lazily recorded flags, and the
// string instructions MOVS/STOS/LODS/CMPS/SCAS with REP/REPE/REPNE in both directions (buffers,
// RSI/RDI/RCX and flags compared).

import { condForms, stringForms } from './native/forms.js';
import { defineSemanticsSuite } from './native/semantics-lib.js';

defineSemanticsSuite('x86 semantics vs host: conditions and strings', [...condForms(), ...stringForms()], {
  seed: 0xc0dec0de, tag: 'cond', cases64: 28, cases32: 10,
});
