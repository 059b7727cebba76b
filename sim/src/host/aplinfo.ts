// The appliance template index (`pveam available`): Proxmox's own aplinfo.dat records as
// PVE::APLInfo parses them, plus a few TurnKey Linux records from their separate index.

export interface Appliance {
  package: string;
  version: string;
  type: "lxc";
  os: string;
  section: string;
  maintainer: string;
  architecture: string;
  location: string;
  infopage: string;
  headline: string;
  description: string;
  source: string;
  template: string;
  md5sum?: string;
  sha512sum: string;
  manageurl?: string;
}

const PROXMOX = "Proxmox Support Team <support@proxmox.com>";
const PROXMOX_SOURCE = "http://download.proxmox.com/images";
const TURNKEY_SOURCE = "https://releases.turnkeylinux.org/pve";

/** package, version, os, section, location (relative to the source), md5sum, sha512sum, infopage, headline, description. */
type Row = [string, string, string, string, string, string, string, string, string, string];

// From pve-manager aplinfo/aplinfo.dat (the Proxmox image index a PVE 9 node downloads).
const PROXMOX_ROWS: Row[] = [
  [
    "almalinux-10-default",
    "20250930",
    "almalinux",
    "system",
    "system/almalinux-10-default_20250930_amd64.tar.xz",
    "15112c6ccd019b93fb5ab9d91f3f92fc",
    "ba26baea9b73188f1ec308f27a3c3e4efcd7fc8bfca976dc2dfffc89c5681df4ac3a96e136f841d769a8b6a04c6cf0db97ffef70def853a0c3486c90a30e3418",
    "https://linuxcontainers.org",
    "LXC default image for almalinux 10 (20250930)",
    "",
  ],
  [
    "almalinux-9-default",
    "20240911",
    "almalinux",
    "system",
    "system/almalinux-9-default_20240911_amd64.tar.xz",
    "aec3769056165ed72a2523e6a2e0b12f",
    "4c3c5c2616b46fbb0b831a87669e6f323167c2f67cca487723ff3b00284309c547fec03d5e87678c3c6d306a764d9875fbcd01c46e1caf8203784c4957a907f0",
    "https://linuxcontainers.org",
    "LXC default image for almalinux 9 (20240911)",
    "",
  ],
  [
    "alpine-3.22-default",
    "20250617",
    "alpine",
    "system",
    "system/alpine-3.22-default_20250617_amd64.tar.xz",
    "7876712da358f2536dc0baa18169aed4",
    "1900ccb1b092b5563c0430ff9d9ede63c23bf2fa4a872b8816d2b03d711c76c1d2ea2241796ebaa58292caee75a01e325b7a9c86f63e36d9f9425b45e0115469",
    "https://linuxcontainers.org",
    "LXC default image for alpine 3.22 (20250617)",
    "",
  ],
  [
    "alpine-3.23-default",
    "20260116",
    "alpine",
    "system",
    "system/alpine-3.23-default_20260116_amd64.tar.xz",
    "2538c3bc2ca5215cc0392383f838d643",
    "d6835836b59888d8bb3971668820483a246cfa46e992f62209464b6faabd6a223f4132bc0aa86675603223b6646edf4fc33b8b6e80673e1b31183fac191baee4",
    "https://linuxcontainers.org",
    "LXC default image for alpine 3.23 (20260116)",
    "",
  ],
  [
    "alpine-3.24-default",
    "20260714",
    "alpine",
    "system",
    "system/alpine-3.24-default_20260714_amd64.tar.xz",
    "640e03c8343d505ac1e883d480521efb",
    "9877b74de4c4878b70450502618f7b02952e792afdbc91f146f6cba507432dae516674d0bb3a306484d58edc722ff63db1ed3c4e5b0954fb2a2773ec8d8f33bd",
    "https://linuxcontainers.org",
    "LXC default image for alpine 3.24 (20260714)",
    "",
  ],
  [
    "archlinux-base",
    "20260420-1",
    "archlinux",
    "system",
    "system/archlinux-base_20260420-1_amd64.tar.zst",
    "5f7cd1c61dd0a9a546f6c2d3e9ccdc78",
    "a6af26c3760f5683ea17140aae9398e3a793f17e3c1586edcec56fb0ed1ba780722ce4c20eafdb5843899fa229cfe859a381c36b6c754b7e381f8337f2334352",
    "https://www.archlinux.org",
    "ArchLinux base image.",
    "ArchLinux template with the 'base' group and the 'openssh' package installed.",
  ],
  [
    "centos-10-stream-default",
    "20260713",
    "centos",
    "system",
    "system/centos-10-stream-default_20260713_amd64.tar.xz",
    "e4be7a2143d6489c0c2576044478ae5d",
    "7e55c0ad588bd7164901257d9d5a07c7a7425b1f0c094cf0e065d6303d137a1df6f51672fd7dc1728b70cf888e3e24582f878326a80b917cc8c1ea463f6168c3",
    "https://linuxcontainers.org",
    "LXC default image for centos 10-stream (20260713)",
    "",
  ],
  [
    "centos-9-stream-default",
    "20240828",
    "centos",
    "system",
    "system/centos-9-stream-default_20240828_amd64.tar.xz",
    "159f3f7dd7e2d6188867e7fecb4b4bbd",
    "de6ec0a6ffc2e980d4baa11185765ba925822462f14c387b8e50ffda0f2281e8fb8bebc53c84d39b8073dd543ea98496685c828ab713f2ec0ba56dd25e6ddbef",
    "https://linuxcontainers.org",
    "LXC default image for centos 9-stream (20240828)",
    "",
  ],
  [
    "debian-12-standard",
    "12.12-1",
    "debian-12",
    "system",
    "system/debian-12-standard_12.12-1_amd64.tar.zst",
    "4e5a0a7183b6c8ca6867489820961e88",
    "50c85eaaece677a3ebe01cc909b83872e9da2a22c29ae652838afce71e83222fdf40f6accecd7d52b180e912fc1f85ecdf7b3fc4d3027da4d865e509a9e76597",
    "https://pve.proxmox.com/wiki/Linux_Container#pct_supported_distributions",
    "Debian 12 Bookworm (standard)",
    "A small Debian Bookworm system including all standard packages.",
  ],
  [
    "debian-13-standard",
    "13.6-1",
    "debian-13",
    "system",
    "system/debian-13-standard_13.6-1_amd64.tar.zst",
    "a6148ff6f0d60e643a6e5f33497cecea",
    "4c0c27ca6ceab5ef0b84db57825a00f26157ef1854bafe97297813e1cbe8ecb8cc9c453cab6b3b0efe1ba193a50c47ece1e41d950e411b8730b835b71e9e754b",
    "https://pve.proxmox.com/wiki/Linux_Container#pct_supported_distributions",
    "Debian 13 Trixie (standard)",
    "A small Debian Trixie system including all standard packages.",
  ],
  [
    "devuan-5.0-standard",
    "5.0",
    "devuan-5.0",
    "system",
    "system/devuan-5.0-standard_5.0_amd64.tar.gz",
    "4e1aadd38db6f0ec628f7fa042cde11f",
    "a70bf2f0851d1ad55bf0c92808e1543173daf30ed6e0af792bc0288dde9b15a841f4eb3ad4440fdb88333250cdcf8f01a6ed446ba9354c33fda68523bd88a9b5",
    "https://devuan.org",
    "Devuan 5 (standard)",
    "A small Devuan Daedalus system including a minimal set of essential packages.",
  ],
  [
    "fedora-43-default",
    "20260115",
    "fedora",
    "system",
    "system/fedora-43-default_20260115_amd64.tar.xz",
    "a50b573c7a24e6de2227709349606ca0",
    "2a1d710f8d9671e6cea2e775bff94c7e00a9dfde3aaaa07cc932e4df8938de398d65f7b2c4d7242196fec25101a33be9f6b8200185e4c24a4b869acf9f174781",
    "https://linuxcontainers.org",
    "LXC default image for fedora 43 (20260115)",
    "",
  ],
  [
    "fedora-44-default",
    "20260713",
    "fedora",
    "system",
    "system/fedora-44-default_20260713_amd64.tar.xz",
    "3e86e5e38af5e895703eb6c3db38b25a",
    "868c83c15ba476aed986f324e698ac5d80c59f49440f70036da350d2faf0b117435150fce853ca6d553005da86956f0b71d34b40a94456473ad09fc87395d5c9",
    "https://linuxcontainers.org",
    "LXC default image for fedora 44 (20260713)",
    "",
  ],
  [
    "gentoo-current-openrc",
    "20250508",
    "gentoo",
    "system",
    "system/gentoo-current-openrc_20250508_amd64.tar.xz",
    "d9a70f0f331b25eace92d00b9d457073",
    "50495e3c066aa4f4a8886d8eebbb30ecf662bb7bf7209677fa9edfb82ce2d00172ad2b5ebeba3ee9d319a74691bd975e3b73e079fce503ab72c4a56d2bde8a55",
    "https://linuxcontainers.org",
    "LXC openrc image for gentoo current (20250508)",
    "",
  ],
  [
    "openeuler-25.03-default",
    "20250507",
    "openeuler",
    "system",
    "system/openeuler-25.03-default_20250507_amd64.tar.xz",
    "a81f7be61736cbf9753db8a2fd009166",
    "ecb86973bbd867624513fe5f8f0e72b6ee9be5f9fff592a4dc4bd78610310035270d1917882366ead2d8f3d9af215076552f7a4a35dc8602bf21548e4e2b09e4",
    "https://linuxcontainers.org",
    "LXC default image for openeuler 25.03 (20250507)",
    "",
  ],
  [
    "opensuse-15.6-default",
    "20240910",
    "opensuse",
    "system",
    "system/opensuse-15.6-default_20240910_amd64.tar.xz",
    "c1de1a7a5fad45ee90bc4d5c98f2ad3f",
    "a0154162ef5128ebce176cab67d98b3d0c1db7bde92ac13e89b799de81a9b99f80d9f7afaf032a8247808a5d2d13261c5b7b9148fe03d60111666edfffc94523",
    "https://linuxcontainers.org",
    "LXC default image for opensuse 15.6 (20240910)",
    "",
  ],
  [
    "opensuse-16.0-default",
    "20260116",
    "opensuse",
    "system",
    "system/opensuse-16.0-default_20260116_amd64.tar.xz",
    "0b5893343ecbc0bfd7b048dee510754a",
    "132ce5d762debc066d11083a65ca46d1bf7425eb74f8b79e6b8f70534b02e42b2fea24aa7cc720db2c0bbe31baa501164382d0663b7b219375b768751a34a687",
    "https://linuxcontainers.org",
    "LXC default image for opensuse 16.0 (20260116)",
    "",
  ],
  [
    "proxmox-mail-gateway-8.2-standard",
    "8.2-1",
    "debian-12",
    "mail",
    "mail/proxmox-mail-gateway-8.2-standard_8.2-1_amd64.tar.zst",
    "0dd1c7dca99aca52a785a7b83f39d069",
    "2631776cc7014e6a5562bba951cfad1ad9caa58e3626a28136b15add42d8c7769c25d0dcdc86c4d421384160481e9d9a1975c41f11bbdb0004a8f8695b92900b",
    "https://www.proxmox.com/en/proxmox-mail-gateway/overview",
    "Proxmox Mail Gateway 8.2",
    "A full featured mail proxy for spam and virus filtering, optimized for container environment.",
  ],
  [
    "proxmox-mail-gateway-9.1-standard",
    "9.1-1",
    "debian-13",
    "mail",
    "mail/proxmox-mail-gateway-9.1-standard_9.1-1_amd64.tar.zst",
    "2dd27723d1df3b8024e23fb863de9631",
    "3e03914fbee7989177b4b5debbb4cf1196faa7d93c2091aca50956e2ab1401aebc90dff3f25aa3ab9dc9708ea4d666f3915245e5f3e69c7fe9421e2b65bbf4e6",
    "https://www.proxmox.com/en/proxmox-mail-gateway/overview",
    "Proxmox Mail Gateway 9.1",
    "A full featured mail proxy for spam and virus filtering, optimized for container environment.",
  ],
  [
    "rockylinux-10-default",
    "20251001",
    "rockylinux",
    "system",
    "system/rockylinux-10-default_20251001_amd64.tar.xz",
    "13ef16830a3f62727b8641b041529497",
    "025d346a9aa9b27b90c28147cece917659cb320508cf248f59c776a00fd3a7009a9e1e0812217c990398588bb11b5a38abca82c0991a161ba3f27e1c6ee190ac",
    "https://linuxcontainers.org",
    "LXC default image for rockylinux 10 (20251001)",
    "",
  ],
  [
    "rockylinux-9-default",
    "20240912",
    "rockylinux",
    "system",
    "system/rockylinux-9-default_20240912_amd64.tar.xz",
    "3a782d5d1c33d05eeff2e21579bdfae8",
    "864bcf3f21fd8616d3cd9e2330f7372ad7b29b070b746c4a4bd73f372db7cc5d06f3e7058b5571379e8f6c3c9d987a3ea3b43559c12f63c7ef096e9afa9ead46",
    "https://linuxcontainers.org",
    "LXC default image for rockylinux 9 (20240912)",
    "",
  ],
  [
    "ubuntu-22.04-standard",
    "22.04-1",
    "ubuntu-22.04",
    "system",
    "system/ubuntu-22.04-standard_22.04-1_amd64.tar.zst",
    "a1f167ac98a931abc333154354d475fc",
    "cf617c11232c3fbce1ba9f7146ac194561411c292c445b2a5c9affe5f09729f5c38315619de4d649ff63e31dd5b536ea081fdde1b7792e6e521d1694ac7c9cb8",
    "https://pve.proxmox.com/wiki/Linux_Container#pct_supported_distributions",
    "Ubuntu 22.04 Jammy (standard)",
    "A small Ubuntu 22.04 Jammy Jellyfish system including all standard packages.",
  ],
  [
    "ubuntu-24.04-standard",
    "24.04-2",
    "ubuntu-24.04",
    "system",
    "system/ubuntu-24.04-standard_24.04-2_amd64.tar.zst",
    "4030982618eeae70854e8f9711adbd09",
    "45c2978e6b97fe292ada95fe06834276015e5739a594db4de2fdfd830fa0c37942e8ae118fc1e32ffd9154b3f9378b592738b668ea3957db41f2907b86f219de",
    "https://pve.proxmox.com/wiki/Linux_Container#pct_supported_distributions",
    "Ubuntu 24.04 Noble (standard)",
    "A small Ubuntu 24.04 Noble Numbat system including all standard packages.",
  ],
  [
    "ubuntu-25.04-standard",
    "25.04-1",
    "ubuntu-25.04",
    "system",
    "system/ubuntu-25.04-standard_25.04-1.1_amd64.tar.zst",
    "1134f828d4e5fe894c1a96edc9cc75b5",
    "779cf8bbdf788057234eb439e4f165a39bb90bf9e65b5eded73354425376fe93a0e27e46c5cfa30dbb242f22656caf7039eee5d730ac4a30131766cbf1d5d4db",
    "https://pve.proxmox.com/wiki/Linux_Container#pct_supported_distributions",
    "Ubuntu 25.04 Plucky (standard)",
    "A small Ubuntu 25.04 Plucky Puffin system including all standard packages.",
  ],
  [
    "ubuntu-26.04-standard",
    "26.04-1",
    "ubuntu-26.04",
    "system",
    "system/ubuntu-26.04-standard_26.04-1_amd64.tar.zst",
    "7ad11fd200b1ae9eec8422a4f55ef673",
    "d5607f124d01f8ddfebd8e7da34c0022fb2a464e1662ee1e39a13f5ed1bae08a7364c486247fbd9f69f26c710729884ee5047aadb89f33a40066cd5f0d9def88",
    "https://pve.proxmox.com/wiki/Linux_Container#pct_supported_distributions",
    "Ubuntu 26.04 Resolute (standard)",
    "A small Ubuntu 26.04 Resolute Raccoon system including all standard packages.",
  ],
];

/** TurnKey records: package, version, os, headline, description, app page name. */
const TURNKEY_ROWS: [string, string, string, string, string, string][] = [
  [
    "turnkey-wordpress",
    "18.1-1",
    "debian-12",
    "WordPress - Blog Publishing Platform",
    "WordPress is a state-of-the-art publishing platform with a focus on aesthetics, web standards, and usability.",
    "wordpress",
  ],
  [
    "turnkey-nextcloud",
    "18.2-1",
    "debian-12",
    "Nextcloud - Share and Collaborate",
    "Nextcloud is an open source, self-hosted file share and communication platform.",
    "nextcloud",
  ],
  [
    "turnkey-gitea",
    "18.0-1",
    "debian-12",
    "Gitea - Git Service",
    "Gitea is a painless self-hosted Git service.",
    "gitea",
  ],
  [
    "turnkey-fileserver",
    "18.0-1",
    "debian-12",
    "File Server - Simple Network Attached Storage",
    "An easy to use file server that combines Windows-compatible network file sharing with a web-based file manager.",
    "fileserver",
  ],
];

/** A stand-in SHA-512 for records whose index carries none here (stable per template). */
function pseudoSha512(seed: string): string {
  let out = "";
  let h = 0x9e3779b9;
  for (let round = 0; out.length < 128; round++) {
    for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193 + round) >>> 0;
    out += h.toString(16).padStart(8, "0");
  }
  return out.slice(0, 128);
}

const templateOf = (location: string) => location.replace(/.*\//, "");

export const APPLIANCES: Appliance[] = [
  ...PROXMOX_ROWS.map(
    ([pkg, version, os, section, location, md5sum, sha512sum, infopage, headline, description]) => ({
      package: pkg,
      version,
      type: "lxc" as const,
      os,
      section,
      maintainer: PROXMOX,
      architecture: "amd64",
      location: `${PROXMOX_SOURCE}/${location}`,
      infopage,
      headline,
      description,
      source: PROXMOX_SOURCE,
      template: templateOf(location),
      md5sum,
      sha512sum,
    }),
  ),
  ...TURNKEY_ROWS.map(([pkg, version, os, headline, description, app]) => {
    const location = `${TURNKEY_SOURCE}/${os}-${pkg}_${version}_amd64.tar.gz`;
    return {
      package: pkg,
      version,
      type: "lxc" as const,
      os,
      section: "turnkeylinux",
      maintainer: "Turnkey Linux <support@turnkeylinux.org>",
      architecture: "amd64",
      location,
      infopage: `https://www.turnkeylinux.org/${app}`,
      headline,
      description,
      source: TURNKEY_SOURCE,
      template: templateOf(location),
      sha512sum: pseudoSha512(location),
      manageurl: "https://__IPADDRESS__/",
    };
  }),
];

export const applianceByTemplate = (template: string) => APPLIANCES.find((a) => a.template === template);
