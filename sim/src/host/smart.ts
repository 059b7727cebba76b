// What `smartctl -H -A -f brief` reports for the simulated disks, parsed the way
// PVE::Diskmanage::get_smart_data does: ATA attributes as rows, NVMe health as text.

import type { Disk } from "./disks";

interface Attr {
  id: number;
  name: string;
  flags: string;
  value: number;
  worst: number;
  thresh: number;
  fail?: string;
  raw: string;
}

function ataAttributes(d: Disk): Attr[] {
  const s = d.smart;
  const a = (
    id: number,
    name: string,
    flags: string,
    value: number,
    worst: number,
    thresh: number,
    raw: string | number,
    fail?: string,
  ): Attr => ({
    id,
    name,
    flags,
    value,
    worst,
    thresh,
    raw: String(raw),
    ...(fail ? { fail } : {}),
  });
  const realloc = s.reallocated ?? 0;
  // The normalized value drops below the threshold once too many sectors were remapped.
  const reallocValue = realloc > 1000 ? 120 : 200;
  if (d.kind === "hdd") {
    return [
      a(1, "Raw_Read_Error_Rate", "POSR-K", 200, 200, 51, realloc ? 37 : 0),
      a(3, "Spin_Up_Time", "POS--K", 178, 174, 21, 6075),
      a(4, "Start_Stop_Count", "-O--CK", 100, 100, 0, 214),
      a(
        5,
        "Reallocated_Sector_Ct",
        "PO--CK",
        reallocValue,
        reallocValue,
        140,
        realloc,
        reallocValue < 140 ? "FAILING_NOW" : undefined,
      ),
      a(7, "Seek_Error_Rate", "-OSR-K", 200, 200, 0, 0),
      a(
        9,
        "Power_On_Hours",
        "-O--CK",
        Math.max(1, 100 - Math.floor(s.powerOnHours / 730)),
        Math.max(1, 100 - Math.floor(s.powerOnHours / 730)),
        0,
        s.powerOnHours,
      ),
      a(10, "Spin_Retry_Count", "-O--CK", 100, 100, 0, 0),
      a(12, "Power_Cycle_Count", "-O--CK", 100, 100, 0, 210),
      a(193, "Load_Cycle_Count", "-O--CK", 199, 199, 0, 4870),
      a(194, "Temperature_Celsius", "-O---K", 150 - s.temperature, 105, 0, `${s.temperature}`),
      a(196, "Reallocated_Event_Count", "-O--CK", 200, 200, 0, realloc ? 311 : 0),
      a(197, "Current_Pending_Sector", "-O--CK", 200, 200, 0, s.pending ?? 0),
      a(198, "Offline_Uncorrectable", "----CK", 100, 253, 0, realloc ? 16 : 0),
      a(199, "UDMA_CRC_Error_Count", "-O--CK", 200, 200, 0, 0),
    ];
  }
  const wearLeft = 100 - (s.wearUsed ?? 0);
  const samsung = d.model.startsWith("Samsung");
  return [
    a(5, "Reallocated_Sector_Ct", "PO--CK", 100, 100, 10, realloc),
    a(9, "Power_On_Hours", "-O--CK", 95, 95, 0, s.powerOnHours),
    a(12, "Power_Cycle_Count", "-O--CK", 99, 99, 0, 97),
    samsung
      ? a(177, "Wear_Leveling_Count", "PO--C-", wearLeft, wearLeft, 0, 612)
      : a(202, "Percent_Lifetime_Remain", "P---CK", wearLeft, wearLeft, 1, s.wearUsed ?? 0),
    a(190, "Airflow_Temperature_Cel", "-O---K", 100 - s.temperature, 56, 0, s.temperature),
    a(194, "Temperature_Celsius", "-O---K", 100 - s.temperature, 56, 0, s.temperature),
    a(199, "UDMA_CRC_Error_Count", "-OSRCK", 100, 100, 0, 0),
    a(241, "Total_LBAs_Written", "-O--CK", 99, 99, 0, 48_113_226_112),
  ];
}

const group = (n: number) => n.toLocaleString("en-US");

function nvmeText(d: Disk): string {
  const s = d.smart;
  const lines = [
    "",
    "SMART/Health Information (NVMe Log 0x02)",
    `Critical Warning:                   0x00`,
    `Temperature:                        ${s.temperature} Celsius`,
    "Available Spare:                    100%",
    "Available Spare Threshold:          10%",
    `Percentage Used:                    ${s.wearUsed ?? 0}%`,
    `Data Units Read:                    ${group(s.powerOnHours * 4873)} [${((s.powerOnHours * 4873 * 512000) / 1e12).toFixed(1)} TB]`,
    `Data Units Written:                 ${group(s.powerOnHours * 4036)} [${((s.powerOnHours * 4036 * 512000) / 1e12).toFixed(1)} TB]`,
    `Host Read Commands:                 ${group(s.powerOnHours * 51898)}`,
    `Host Write Commands:                ${group(s.powerOnHours * 99991)}`,
    `Controller Busy Time:               ${group(Math.floor(s.powerOnHours / 8))}`,
    "Power Cycles:                       61",
    `Power On Hours:                     ${group(s.powerOnHours)}`,
    "Unsafe Shutdowns:                   14",
    "Media and Data Integrity Errors:    0",
    "Error Information Log Entries:      0",
    "Warning  Comp. Temperature Time:    0",
    "Critical Comp. Temperature Time:    0",
    `Temperature Sensor 1:               ${s.temperature} Celsius`,
    `Temperature Sensor 2:               ${s.temperature + 5} Celsius`,
    "",
  ];
  return lines.map((l) => `${l}\n`).join("");
}

/** GET disks/smart for one disk (healthonly keeps just the health). */
export function smartData(d: Disk, healthonly: boolean): Record<string, unknown> {
  if (healthonly) return { health: d.smart.health };
  if (d.kind === "nvme")
    return {
      health: d.smart.health,
      type: "text",
      text: nvmeText(d),
      wearout: 100 - (d.smart.wearUsed ?? 0),
    };
  const attributes = ataAttributes(d).map((x) => ({
    name: x.name,
    flags: x.flags,
    value: x.value,
    normalized: x.value,
    worst: x.worst,
    threshold: x.thresh,
    fail: x.fail ?? "-",
    raw: x.raw,
    // The id column keeps its padding ("  5"), as the regex in get_smart_data captures it.
    id: String(x.id).padStart(3, " "),
  }));
  return { health: d.smart.health, type: "ata", attributes };
}

/** get_wear_leveling_info: NVMe from "Percentage Used", SATA SSDs from their wear attribute. */
export function wearout(d: Disk): number | "N/A" {
  if (d.kind === "hdd") return "N/A";
  return 100 - (d.smart.wearUsed ?? 0);
}
