// The console (`ui/dist`, built by scripts/build-ui.sh) is embedded in release builds: rebuild
// when it changes.
fn main() {
    println!("cargo:rerun-if-changed=../ui/dist");
}
