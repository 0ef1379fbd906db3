/**
 * What makes up a process's locked_vm (kernel-model.md §5.1): one row per contributor, in stacking order
 * (bottom first). The engine's breakdown, the snapshot schema, the inspector's views, the Markdown report
 * and the locked_vm graph all read this table, so a new contributor is one row here. Imports nothing, so
 * every layer (the engine included) may use it.
 */
export const CONTRIBUTORS = [
  {
    key: 'v1Enable',
    label: 'v1 ENABLE',
    doc: 'v1 VFIO_IOMMU_ENABLE charges (tce32_size >> PAGE_SHIFT per enabled container)',
  },
  {
    key: 'regions',
    label: 'pre-registered regions',
    doc: 'v2 pre-registered regions (the entries of each region, charged once when it is created)',
  },
  {
    key: 'tables',
    label: 'TCE tables',
    doc: 'TCE tables of VFIO-created windows (get_table_size >> PAGE_SHIFT; mainline: includes the view)',
  },
  {
    key: 'views',
    label: 'userspace views',
    doc: '4.2 only: separately charged userspace views (it_userspace), also of borrowed IODA1 tables',
  },
  {
    key: 'leaked',
    label: 'never returned',
    doc: 'charges the emulated kernel never returns (mainline TCE_CREATE failure, §4.10 / Q4)',
  },
  {
    key: 'kvmTables',
    label: 'KVM TCE tables',
    doc: "KVM in-kernel TCE tables (kvmppc_stt_pages each, §13.4.3), charged to the VM's mm; none in 4.2",
  },
  {
    key: 'mlocked',
    label: 'mlocked',
    doc: 'VM_LOCKED pages (mlock, §13.10.3): counted again for memory that is also pre-registered',
  },
] as const;

export type Contributor = (typeof CONTRIBUTORS)[number]['key'];

/** the keys in stacking order */
export const CONTRIBUTOR_KEYS: readonly Contributor[] = CONTRIBUTORS.map((c) => c.key);

/** a short label for each contributor (graph legend, report, size output) */
export const CONTRIBUTOR_LABEL: Readonly<Record<Contributor, string>> = Object.fromEntries(
  CONTRIBUTORS.map((c) => [c.key, c.label]),
) as Record<Contributor, string>;
