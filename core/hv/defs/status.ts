// Hypervisor status codes (HV_STATUS, spec/vsm.md §1.4). Data only; kept in its own module so that the
// layout codecs (layouts.ts, bitfields.ts) can name the status a reserved-bit violation yields without
// importing hypercall.ts (which itself uses the codecs).
//
// Values agree between OpenVMM `HvError` and Linux `hvgdk_mini.h` wherever both define them (§1.4).

export const HvStatus = {
  HV_STATUS_SUCCESS: 0x0000,
  HV_STATUS_INVALID_HYPERCALL_CODE: 0x0002,
  HV_STATUS_INVALID_HYPERCALL_INPUT: 0x0003,
  HV_STATUS_INVALID_ALIGNMENT: 0x0004,
  HV_STATUS_INVALID_PARAMETER: 0x0005,
  HV_STATUS_ACCESS_DENIED: 0x0006,
  HV_STATUS_INVALID_PARTITION_STATE: 0x0007,
  HV_STATUS_OPERATION_DENIED: 0x0008,
  HV_STATUS_UNKNOWN_PROPERTY: 0x0009,
  HV_STATUS_PROPERTY_VALUE_OUT_OF_RANGE: 0x000a,
  HV_STATUS_INSUFFICIENT_MEMORY: 0x000b,
  HV_STATUS_PARTITION_TOO_DEEP: 0x000c,
  HV_STATUS_INVALID_PARTITION_ID: 0x000d,
  HV_STATUS_INVALID_VP_INDEX: 0x000e,
  HV_STATUS_NOT_FOUND: 0x0010,
  HV_STATUS_INVALID_PORT_ID: 0x0011,
  HV_STATUS_INVALID_CONNECTION_ID: 0x0012,
  HV_STATUS_INSUFFICIENT_BUFFERS: 0x0013,
  HV_STATUS_NOT_ACKNOWLEDGED: 0x0014,
  HV_STATUS_INVALID_VP_STATE: 0x0015,
  HV_STATUS_ACKNOWLEDGED: 0x0016,
  HV_STATUS_INVALID_SAVE_RESTORE_STATE: 0x0017,
  HV_STATUS_INVALID_SYNIC_STATE: 0x0018,
  HV_STATUS_OBJECT_IN_USE: 0x0019,
  /** OpenVMM only; §1.4 mentions it as "not needed here". */
  HV_STATUS_INVALID_PROXIMITY_DOMAIN_INFO: 0x001a,
  HV_STATUS_NO_DATA: 0x001b,
  HV_STATUS_INACTIVE: 0x001c,
  HV_STATUS_NO_RESOURCES: 0x001d,
  HV_STATUS_FEATURE_UNAVAILABLE: 0x001e,
  HV_STATUS_PARTIAL_PACKET: 0x001f,
  HV_STATUS_PROCESSOR_FEATURE_NOT_SUPPORTED: 0x0020,
  HV_STATUS_INVALID_LP_INDEX: 0x0041,
  HV_STATUS_INVALID_REGISTER_VALUE: 0x0050,
  HV_STATUS_INVALID_VTL_STATE: 0x0051,
  HV_STATUS_OPERATION_FAILED: 0x0071,
  /** Linux spells it HV_STATUS_TIME_OUT. */
  HV_STATUS_TIMEOUT: 0x0078,
  /** Linux only. */
  HV_STATUS_CALL_PENDING: 0x0079,
  /**
   * [UNCERTAIN which one real Hyper-V returns] OpenVMM/Linux define this for "VTL already enabled", but the
   * kvm-unit-tests require HV_STATUS_INVALID_PARAMETER (0x5) there (§1.4, §11). Handlers should return 0x5.
   */
  HV_STATUS_VTL_ALREADY_ENABLED: 0x0086,
  /**
   * [UNCERTAIN] OpenVMM only (not in Linux). The kvm-unit-tests expect HV_STATUS_INVALID_PARAMETER for an
   * unknown register name (§1.4, §11). Handlers should return 0x5.
   */
  HV_STATUS_UNKNOWN_REGISTER_NAME: 0x0087,
} as const;

export type HvStatusName = keyof typeof HvStatus;
/** A known status value; statuses read back from a guest or a trace may be any u16, hence `number`. */
export type KnownHvStatus = (typeof HvStatus)[HvStatusName];
export type HvStatusCode = KnownHvStatus | (number & {});

/** Value → name, for traces and error messages. Built once from HvStatus; frozen. */
export const HV_STATUS_NAMES: Readonly<Record<number, HvStatusName>> = Object.freeze(
  Object.fromEntries(Object.entries(HvStatus).map(([k, v]) => [v, k])) as Record<number, HvStatusName>,
);

/** "HV_STATUS_INVALID_PARAMETER" or "HV_STATUS_0x1234" for values this table does not know. */
export function hvStatusName(status: number): string {
  return HV_STATUS_NAMES[status] ?? 'HV_STATUS_0x' + (status & 0xffff).toString(16).padStart(4, '0');
}
