// Backup jobs as pve-manager keeps them in /etc/pve/jobs.cfg (section type `vzdump`): the vzdump
// options of each job, in the order they were created.

import type { ConfigFile, GuestState } from "./model";

export const JOBS_FILE = "jobs.cfg";

export type JobValue = string | number | boolean;

export interface BackupJob {
  /** Position in jobs.cfg. */
  order: number;
  options: Record<string, JobValue>;
}

/** The seeded nightly job: every guest but the template and the test VM, to the NAS. */
export function seedBackupJobs(guests: GuestState[], generated: boolean): ConfigFile {
  const exclude = generated
    ? guests.filter((g) => g.vmid % 10 === 9).map((g) => g.vmid)
    : guests.filter((g) => [107, 110].includes(g.vmid)).map((g) => g.vmid);
  const jobs: Record<string, BackupJob> = {
    "backup-nightly": {
      order: 1,
      options: {
        schedule: "02:30",
        enabled: true,
        storage: "nas",
        mode: "snapshot",
        compress: "zstd",
        all: true,
        ...(exclude.length ? { exclude: exclude.join(",") } : {}),
        "notes-template": "{{guestname}} nightly",
        "prune-backups": "keep-daily=7,keep-weekly=4,keep-monthly=3",
        "notification-mode": "auto",
        comment: "Nightly backup of everything that matters",
      },
    },
  };
  return { name: JOBS_FILE, data: jobs };
}
