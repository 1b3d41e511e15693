//! Bad configuration stops the start with a message that names the key.

use crate::support::{Backend, HubEnv};

fn failed_start(env: &HubEnv, extra: &[(&str, &str)], args: &[&str]) -> String {
    let mut cmd = env.command();
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = cmd.args(args).output().expect("run");
    assert!(!out.status.success(), "start should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn unknown_file_key_and_bad_values_stop_the_start() {
    let env = HubEnv::new(Backend::Sqlite);
    let file = env.dir.path().join("hub.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:0\"\nlisten_adress = \"x\"\n").expect("write");
    let file = file.display().to_string();
    let stderr = failed_start(&env, &[], &["--config", &file]);
    assert!(stderr.contains("listen_adress"), "{stderr}");

    std::fs::write(
        env.dir.path().join("nested.toml"),
        "[billing]\nenabeld = true\n",
    )
    .expect("write");
    let nested = env.dir.path().join("nested.toml").display().to_string();
    let stderr = failed_start(&env, &[("AIGNE_HUB_CONFIG", &nested)], &[]);
    assert!(stderr.contains("enabeld"), "{stderr}");

    let stderr = failed_start(&env, &[("AIGNE_HUB_LISTEN", "nonsense")], &[]);
    assert!(
        stderr.contains("AIGNE_HUB_LISTEN") && stderr.contains("nonsense"),
        "{stderr}"
    );

    let stderr = failed_start(&env, &[("AIGNE_HUB_BILLING__ENABLED", "perhaps")], &[]);
    assert!(stderr.contains("enabled"), "{stderr}");

    let stderr = failed_start(&env, &[("AIGNE_HUB_LISTN", "127.0.0.1:1")], &[]);
    assert!(stderr.contains("AIGNE_HUB_LISTN"), "{stderr}");

    let stderr = failed_start(&env, &[("AIGNE_HUB_ADMIN_KEY", "short")], &[]);
    assert!(
        stderr.contains("AIGNE_HUB_ADMIN_KEY") && !stderr.contains("short\""),
        "{stderr}"
    );

    // Nothing was created by the failed starts.
    assert!(!env.data_dir().join("aigne-hub.db").exists());
}
