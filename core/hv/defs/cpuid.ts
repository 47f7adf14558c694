// Hypervisor CPUID leaves 0x40000000-0x4000000A: leaf numbers, the vendor and interface signatures, and the
// bit positions of the feature/privilege words (spec/vsm.md §1.6). Bit values are masks of the register named.
//
// vsm.md gives only leaf 0x40000003. Everything else here is marked "not in vsm.md": leaf numbers
// 0x40000000..5 and 0x4000000A and the signatures as Linux `hyperv-tlfs.h` has them (HYPERV_CPUID_*); the
// names of 0x40000006..9 follow the TLFS "Feature discovery" chapter (not checked against a stored copy); the
// recommendations bits are Linux's HV_X64_*_RECOMMENDED.

export const HvCpuidLeaf = {
  /** EAX = highest hypervisor leaf; EBX:ECX:EDX = "Microsoft Hv". */
  HV_CPUID_VENDOR_AND_MAX_FUNCTIONS: 0x40000000,
  /** EAX = interface signature "Hv#1". */
  HV_CPUID_INTERFACE: 0x40000001,
  /** Hypervisor version (build number, major/minor, service pack). */
  HV_CPUID_VERSION: 0x40000002,
  /** Partition privileges (EAX:EBX) and features (ECX, EDX); §1.6. */
  HV_CPUID_FEATURES: 0x40000003,
  /** Implementation recommendations (EAX) and spinlock retry count (EBX). */
  HV_CPUID_ENLIGHTMENT_INFO: 0x40000004,
  /** Maximum virtual/logical processors supported. */
  HV_CPUID_IMPLEMENT_LIMITS: 0x40000005,
  /** Hardware features in use by the hypervisor. */
  HV_CPUID_HARDWARE_FEATURES: 0x40000006,
  /** Root partition only. */
  HV_CPUID_CPU_MANAGEMENT_FEATURES: 0x40000007,
  /** Shared virtual memory (SVM) features. */
  HV_CPUID_SVM_FEATURES: 0x40000008,
  /** Nested hypervisor feature identification. */
  HV_CPUID_NESTED_INTERFACE: 0x40000009,
  /** Nested virtualization features. */
  HV_CPUID_NESTED_FEATURES: 0x4000000a,
} as const;

/** Not in vsm.md. "Microsoft Hv" as the little-endian dwords EBX, ECX, EDX of leaf 0x40000000. */
export const HV_CPUID_VENDOR_EBX = 0x7263694d; // "Micr"
export const HV_CPUID_VENDOR_ECX = 0x666f736f; // "osof"
export const HV_CPUID_VENDOR_EDX = 0x76482074; // "t Hv"
export const HV_CPUID_VENDOR_STRING = 'Microsoft Hv';
/** Not in vsm.md. "Hv#1" as the little-endian EAX of leaf 0x40000001. */
export const HV_CPUID_INTERFACE_SIGNATURE = 0x31237648;

/**
 * Leaf 0x40000003 EAX: low dword of the partition privilege mask (OpenVMM `HvPartitionPrivilege`).
 * Linux names: HV_MSR_VP_RUNTIME_AVAILABLE, HV_MSR_TIME_REF_COUNT_AVAILABLE, HV_MSR_SYNIC_AVAILABLE, ...
 */
export const HvCpuidFeaturesEax = {
  AccessVpRuntimeMsr: 1 << 0,
  AccessPartitionReferenceCounter: 1 << 1,
  AccessSynicMsrs: 1 << 2,
  AccessSyntheticTimerMsrs: 1 << 3,
  /** EOI/ICR/TPR and the VP assist page MSR. */
  AccessApicMsrs: 1 << 4,
  /** GUEST_OS_ID and HYPERCALL. */
  AccessHypercallMsrs: 1 << 5,
  AccessVpIndex: 1 << 6,
  AccessResetMsr: 1 << 7,
  AccessStatsMsr: 1 << 8,
  AccessPartitionReferenceTsc: 1 << 9,
  AccessGuestIdleMsr: 1 << 10,
  AccessFrequencyMsrs: 1 << 11,
  AccessDebugMsrs: 1 << 12,
  AccessReenlightenmentControls: 1 << 13,
  AccessRootSchedulerMsr: 1 << 14,
  AccessTscInvariantControls: 1 << 15,
} as const;

/** Leaf 0x40000003 EBX: high dword of the partition privilege mask. Bits 9, 10 reserved; bit 18 unused. */
export const HvCpuidFeaturesEbx = {
  CreatePartitions: 1 << 0,
  AccessPartitionId: 1 << 1,
  AccessMemoryPool: 1 << 2,
  AdjustMessageBuffers: 1 << 3,
  PostMessages: 1 << 4,
  SignalEvents: 1 << 5,
  CreatePort: 1 << 6,
  ConnectPort: 1 << 7,
  AccessStats: 1 << 8,
  Debugging: 1 << 11,
  CpuManagement: 1 << 12,
  ConfigureProfiler: 1 << 13,
  AccessVpExitTracing: 1 << 14,
  EnableExtendedGvaRangesForFlushVaList: 1 << 15,
  /** Gates EnablePartitionVtl, EnableVpVtl, VtlCall, VtlReturn, ModifyVtlProtectionMask. */
  AccessVsm: 1 << 16,
  /** Gates Get/SetVpRegisters. */
  AccessVpRegisters: 1 << 17,
  FastHypercallOutput: 1 << 19,
  EnableExtendedHypercalls: 1 << 20,
  /** Gates StartVirtualProcessor and GetVpIndexFromApicId. */
  StartVirtualProcessor: 1 << 21,
  Isolation: 1 << 22,
} as const;

/** A privilege that gates hypercalls (hypercall.ts HYPERCALL_INFO). */
export type HvPartitionPrivilegeName = keyof typeof HvCpuidFeaturesEbx;

/**
 * Leaf 0x40000003 ECX (OpenVMM). Linux instead names bit 9 VP-dispatch interrupt injection and bit 10 GHCB
 * root mapping (root-partition features); vsm.md advises advertising 0 in ECX.
 */
export const HvCpuidFeaturesEcx = {
  /** Bits 0..3: maximum processor power state (C-state). */
  MaxProcessorPowerStateMask: 0xf,
  HpetNeededForC3PowerState: 1 << 4,
  InvariantMperfAvailable: 1 << 5,
  SupervisorShadowStackAvailable: 1 << 6,
  ArchitecturalPmuAvailable: 1 << 7,
  ExceptionTrapInterceptAvailable: 1 << 8,
} as const;

/** Leaf 0x40000003 EDX (OpenVMM `HvFeatures`; Linux HV_X64_*_AVAILABLE). Bits 24..25 together: device domains. */
export const HvCpuidFeaturesEdx = {
  MwaitAvailableDeprecated: 1 << 0,
  GuestDebuggingAvailable: 1 << 1,
  PerformanceMonitorsAvailable: 1 << 2,
  CpuDynamicPartitioningAvailable: 1 << 3,
  /** Linux HV_X64_HYPERCALL_XMM_INPUT_AVAILABLE; using XMM fast input without it → #UD. */
  XmmRegistersForFastHypercallAvailable: 1 << 4,
  GuestIdleAvailable: 1 << 5,
  HypervisorSleepStateSupportAvailable: 1 << 6,
  NumaDistanceQueryAvailable: 1 << 7,
  FrequencyRegsAvailable: 1 << 8,
  SyntheticMachineCheckAvailable: 1 << 9,
  GuestCrashRegsAvailable: 1 << 10,
  DebugRegsAvailable: 1 << 11,
  NpiepAvailable: 1 << 12,
  DisableHypervisorAvailable: 1 << 13,
  ExtendedGvaRangesForFlushVirtualAddressListAvailable: 1 << 14,
  /** Linux HV_X64_HYPERCALL_XMM_OUTPUT_AVAILABLE. */
  FastHypercallOutputAvailable: 1 << 15,
  SvmFeaturesAvailable: 1 << 16,
  SintPollingModeAvailable: 1 << 17,
  HypercallMsrLockAvailable: 1 << 18,
  DirectSyntheticTimers: 1 << 19,
  RegisterPatAvailable: 1 << 20,
  RegisterBndcfgsAvailable: 1 << 21,
  WatchdogTimerAvailable: 1 << 22,
  SyntheticTimeUnhaltedTimerAvailable: 1 << 23,
  DeviceDomainsAvailable: 1 << 24,
  S1DeviceDomainsAvailable: 1 << 25,
  LbrAvailable: 1 << 26,
  IptAvailable: 1 << 27,
  CrossVtlFlushAvailable: 1 << 28,
  IdleSpecCtrlAvailable: 1 << 29,
  TranslateGvaFlagsAvailable: 1 << 30,
  ApicEoiInterceptAvailable: 0x80000000,
} as const;

/** Not in vsm.md. Leaf 0x40000004 EAX, implementation recommendations (Linux HV_X64_*_RECOMMENDED). */
export const HvCpuidEnlightenmentEax = {
  AddressSpaceSwitchRecommended: 1 << 0,
  LocalTlbFlushRecommended: 1 << 1,
  RemoteTlbFlushRecommended: 1 << 2,
  /** Use the EOI/ICR/TPR MSRs rather than the memory-mapped APIC. */
  ApicAccessRecommended: 1 << 3,
  SystemResetRecommended: 1 << 4,
  RelaxedTimingRecommended: 1 << 5,
  DeprecatingAutoEoiRecommended: 1 << 9,
  ClusterIpiRecommended: 1 << 10,
  ExProcessorMasksRecommended: 1 << 11,
  HypervNested: 1 << 12,
  EnlightenedVmcsRecommended: 1 << 14,
  UseMmioHypercalls: 1 << 21,
} as const;
/** Leaf 0x40000004 EBX: spinlock retry count; 0xFFFFFFFF = never notify. Not in vsm.md. */
export const HV_CPUID_SPINLOCK_RETRIES_NEVER = 0xffffffff;
