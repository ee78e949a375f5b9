{
  "targets": [
    {
      "target_name": "keel",
      "sources": [
        "src/addon/addon.cc",
        "src/addon/sys.cc",
        "src/sys/sys.c",
        "src/addon/bpf.cc",
        "src/sys/bpf.c",
        "src/addon/seccomp.cc",
        "src/sys/seccomp.c",
        "src/addon/proc.cc",
        "src/addon/spawn.cc",
        "src/sys/proc.c",
        "src/addon/shim.cc",
        "src/sys/shim.c",
        "src/addon/mnt.cc",
        "src/sys/mnt.c",
        "src/addon/scan.cc",
        "src/addon/netns.cc",
        "src/sys/netns.c",
        "src/child/init.c",
        "src/child/util.c",
        "src/child/ns.c",
        "src/child/mount.c",
        "src/child/caps.c",
        "src/child/tty.c",
        "src/child/exec.c",
        "src/child/copyup.c",
        "src/child/lsm.c"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "include"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags_c": ["-std=gnu11"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-fno-strict-aliasing"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fno-exceptions"],
      "cflags!": ["-fno-exceptions"],
      "libraries": ["-lseccomp"],
      "dependencies": ["exec_stub"]
    },
    {
      "target_name": "exec_stub",
      "type": "none",
      "direct_dependent_settings": { "include_dirs": ["<(SHARED_INTERMEDIATE_DIR)"] },
      "actions": [
        {
          "action_name": "embed_exec_stub",
          "inputs": ["src/stub/exec-stub.c", "src/stub/embed.sh"],
          "outputs": ["<(SHARED_INTERMEDIATE_DIR)/rt/exec_stub.h"],
          "action": ["sh", "src/stub/embed.sh", "src/stub/exec-stub.c", "<(SHARED_INTERMEDIATE_DIR)/rt/exec_stub.h"]
        }
      ]
    }
  ]
}
