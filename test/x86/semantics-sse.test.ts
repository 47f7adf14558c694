// Differential test of SSE2 integer semantics against the host CPU: PADD*/PSUB* (wrapping and
// saturating), PMUL*, PMADDWD, PSADBW, PAVG*, PMIN/PMAX, PCMP*, logic, PUNPCK*, PACK*, shifts by
// XMM count and by immediate (including PSLLDQ/PSRLDQ), PSHUFD/PSHUFLW/PSHUFHW, PMOVMSKB and the
// MOVD/MOVQ/MOVDQA/MOVDQU/MOVAPS/MOVUPS/UNPCKxPS moves, register and memory sources.

import { faultForms, sseForms } from './native/forms.js';
import { defineSemanticsSuite } from './native/semantics-lib.js';

defineSemanticsSuite('x86 semantics vs host: SSE integer', [...sseForms(), ...faultForms()], {
  seed: 0x55e2bead, tag: 'sse', cases64: 28, cases32: 10,
});
