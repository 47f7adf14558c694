// Hyper-V / VSM definitions (spec/vsm.md): constants, `as const` objects, bit-field and struct layout tables,
// and the two tiny generic codecs that read them. No behaviour beyond encode/decode lives here (STYLE 1, 2).

export * from './status.js';
export * from './bitfields.js';
export * from './layouts.js';
export * from './hypercall.js';
export * from './cpuid.js';
export * from './msr.js';
export * from './registers.js';
export * from './vsm.js';
export * from './messages.js';
