// The emulator version written into every trace.
export const VERSION = '0.1.0';
