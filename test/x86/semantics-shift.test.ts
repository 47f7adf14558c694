// Differential test of shift and rotate semantics against the host CPU: SHL/SHR/SAR/ROL/ROR/RCL/RCR
// by 1, by CL (random counts 0..70 and beyond) and by immediate, register and memory destinations,
// and SHLD/SHRD. Only architecturally defined flags are compared (see shiftFlags in native/forms.ts).

import { shiftForms } from './native/forms.js';
import { defineSemanticsSuite } from './native/semantics-lib.js';

defineSemanticsSuite('x86 semantics vs host: shifts and rotates', shiftForms(), {
  seed: 0x5b1f7a11, tag: 'shift', cases64: 32, cases32: 12,
});
