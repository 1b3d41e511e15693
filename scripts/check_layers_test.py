"""The layering check must fail on a cycle and name it, and pass a crate without one."""

import os
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check-layers.py")


def crate(files):
    root = tempfile.mkdtemp()
    for path, text in files.items():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as fh:
            fh.write(text)
    return root


def run(src):
    return subprocess.run([sys.executable, SCRIPT, src], capture_output=True, text=True)


class CheckLayers(unittest.TestCase):
    def test_a_cycle_through_a_grouped_use_fails_and_is_named(self):
        src = crate({
            "lib.rs": "pub mod config; pub mod db; pub mod billing;",
            "config.rs": "pub struct Settings;",
            "db/mod.rs": "use crate::config::Settings;\npub mod ledger;",
            "db/ledger.rs": "use crate::{billing::amount, config};",
            "billing.rs": "pub fn amount() { crate::db::ledger::x(); }",
        })
        out = run(src)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("billing -> db -> billing", out.stderr)
        self.assertIn("db -> billing: db/ledger.rs", out.stderr)

    def test_layers_without_a_cycle_pass(self):
        src = crate({
            "lib.rs": "pub mod config; pub mod db; pub mod billing;",
            "config.rs": "// crate::billing in a comment is not an edge\npub struct Settings;",
            "db.rs": "use crate::config::Settings;",
            "billing.rs": "use crate::{db, config::Settings};",
        })
        out = run(src)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("0: config", out.stdout)
        self.assertIn("1: db", out.stdout)
        self.assertIn("2: billing", out.stdout)


if __name__ == "__main__":
    unittest.main()
