/**
 * Metric names, in one place: the operator and the CSI plugin export them, the alert rules and the dashboard
 * query them, the tests scrape them. Prometheus conventions: an application prefix, base units (seconds,
 * bytes), `_total` on counters, `_timestamp_seconds` on points in time (age = time() - value).
 */
export const M = {
  reconcileTotal: 'gluster_operator_reconcile_total',
  reconcileErrors: 'gluster_operator_reconcile_errors_total',
  reconcileDuration: 'gluster_operator_reconcile_duration_seconds',
  workqueueDepth: 'gluster_operator_workqueue_depth',
  workqueueWait: 'gluster_operator_workqueue_wait_duration_seconds',
  nodeCommandDuration: 'gluster_operator_node_command_duration_seconds',
  nodeCommandFailures: 'gluster_operator_node_command_failures_total',
  nodeCommandWait: 'gluster_operator_node_command_wait_seconds',
  claimProvisioningDuration: 'gluster_operator_claim_provisioning_duration_seconds',
  topologyGeneration: 'gluster_operator_topology_generation',
  topologyBackupGeneration: 'gluster_operator_topology_backup_generation',
  topologyBackupSize: 'gluster_operator_topology_backup_size_bytes',
  topologyBackupWritten: 'gluster_operator_topology_backup_written_timestamp_seconds',
  leader: 'gluster_operator_leader',
  volumeCondition: 'gluster_operator_volume_condition',
  volumeBricks: 'gluster_operator_volume_bricks',
  volumeBricksOnline: 'gluster_operator_volume_bricks_online',
  volumeBricksOffline: 'gluster_operator_volume_bricks_offline',
  volumeCapacity: 'gluster_operator_volume_capacity_bytes',
  volumeHealPending: 'gluster_operator_volume_heal_pending_entries',
  volumeSplitBrain: 'gluster_operator_volume_split_brain_entries',
  deviceSize: 'gluster_operator_device_size_bytes',
  deviceFree: 'gluster_operator_device_free_bytes',
} as const;

/** The CSI node plugin's. */
export const CSI = {
  operations: 'gluster_csi_operations_total',
  operationDuration: 'gluster_csi_operation_duration_seconds',
  mountsRepaired: 'gluster_csi_mounts_repaired_total',
  mountRepairFailures: 'gluster_csi_mount_repair_failures_total',
} as const;
