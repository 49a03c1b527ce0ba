"""Offline checks of the deployment: every Bicep file parses, and what the templates configure is
what the backend actually serves and reads. Run by deploy/check (python -m unittest)."""

import json
import re
import unittest
from pathlib import Path

import yaml
from pycep import BicepParser

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def bicep(relative):
    return BicepParser().parse(file_path=DEPLOY / relative)


def rust_const(name):
    """A `pub const NAME` of the backend's webhook settings, as a Python value."""
    source = (ROOT / "backend/protocol/src/webhook.rs").read_text()
    match = re.search(rf"pub const {name}: [^=]+= (.+);", source)
    if match is None:
        raise AssertionError(f"{name} is not in webhook.rs")
    value = match.group(1).strip()
    return re.findall(r'"([^"]*)"', value) if value.startswith("[") else value.strip('"')


class BicepFiles(unittest.TestCase):
    def test_every_bicep_file_parses(self):
        files = sorted(DEPLOY.rglob("*.bicep"))
        self.assertGreaterEqual(len(files), 7)
        for path in files:
            with self.subTest(path=path.name):
                parsed = BicepParser().parse(file_path=path)
                self.assertTrue(parsed["resources"] or parsed["outputs"], path)

    def test_main_uses_every_module(self):
        main = bicep("main.bicep")
        used = {m["detail"]["path"] for m in main["modules"].values()}
        on_disk = {f"modules/{p.name}" for p in (DEPLOY / "modules").glob("*.bicep")}
        self.assertEqual(used, on_disk)


class EventHandler(unittest.TestCase):
    """Web PubSub must call the backend where it listens, with the events it handles."""

    def setUp(self):
        parsed = bicep("modules/webpubsub.bicep")
        self.hub = parsed["resources"]["hub"]["config"]
        self.params = parsed["parameters"]
        (self.handler,) = self.hub["properties"]["eventHandlers"]

    def test_path_events_and_pattern_match_the_backend(self):
        self.assertTrue(self.handler["urlTemplate"].endswith(rust_const("EVENT_HANDLER_PATH")))
        self.assertEqual(self.handler["systemEvents"], rust_const("SYSTEM_EVENTS"))
        self.assertEqual(self.handler["userEventPattern"], rust_const("USER_EVENT_PATTERN"))

    def test_hub_name_defaults_match_the_backend(self):
        self.assertEqual(self.params["hubName"]["default"], rust_const("DEFAULT_HUB"))
        self.assertEqual(bicep("main.bicep")["parameters"]["hubName"]["default"], rust_const("DEFAULT_HUB"))

    def test_events_are_authenticated_with_managed_identity_and_no_keys_exist(self):
        self.assertEqual(self.handler["auth"]["type"], "ManagedIdentity")
        service = bicep("modules/webpubsub.bicep")["resources"]["service"]["config"]
        self.assertIs(service["properties"]["disableLocalAuth"], True)


class BackendSettings(unittest.TestCase):
    """The container's environment only names variables the backend reads."""

    def test_env_vars_are_ones_the_backend_reads(self):
        main_rs = (ROOT / "backend/src/main.rs").read_text()
        read = set(re.findall(r'env = "([A-Z_]+)"', main_rs))
        # Read by libraries rather than flags: the log filter and Application Insights' agent-less
        # setting (kept for when the backend exports telemetry; harmless until then).
        read |= {"RUST_LOG", "APPLICATIONINSIGHTS_CONNECTION_STRING"}
        app = bicep("modules/containerapp.bicep")["variables"]
        names = [e["name"] for e in app["baseEnv"]["value"]]
        names += [e["name"] for e in app["githubEnv"]["value"] + app["entraEnv"]["value"]]
        self.assertEqual(sorted(set(names) - read), [])
        for required in [
            "CHATR_WEBPUBSUB_ENDPOINT",
            "CHATR_TABLE_ENDPOINT",
            "CHATR_SESSION_SECRET",
            "AZURE_CLIENT_ID",
            "CHATR_EVENT_ISSUER",
            "CHATR_EVENT_AUDIENCE",
            "CHATR_ALLOWED_ORIGINS",
            "CHATR_PUBLIC_URL",
        ]:
            self.assertIn(required, names)

    def test_no_connection_string_or_key_is_configured(self):
        text = "\n".join(p.read_text() for p in DEPLOY.rglob("*.bicep"))
        self.assertNotIn("CONNECTION_STRING'", text.replace("APPLICATIONINSIGHTS_CONNECTION_STRING'", ""))
        self.assertNotIn("listKeys(storage", text)
        self.assertIn("allowSharedKeyAccess: false", text)

    def test_tables_are_the_ones_the_store_opens(self):
        store = (ROOT / "backend/src/store/table/mod.rs").read_text()
        opened = re.findall(r'format!\("\{prefix\}(\w+)"\)', store)
        tables = bicep("modules/storage.bicep")["variables"]["tables"]["value"]
        self.assertEqual(sorted(tables), sorted(opened))


class Packaging(unittest.TestCase):
    def test_the_image_is_non_root_and_health_checked_by_the_probe_command(self):
        dockerfile = (DEPLOY / "Dockerfile").read_text()
        self.assertIn("USER nonroot", dockerfile)
        self.assertRegex(dockerfile, r'HEALTHCHECK .*\n?.*"probe", "http://127\.0\.0\.1:8080/api/health"')
        self.assertIn('"probe"', dockerfile)
        self.assertIn("Probe {", (ROOT / "backend/src/main.rs").read_text())

    def test_functions_host_runs_the_backend_as_a_custom_handler(self):
        host = json.loads((DEPLOY / "functions/host.json").read_text())
        handler = host["customHandler"]
        self.assertEqual(handler["description"]["defaultExecutablePath"], "chatr-backend")
        self.assertEqual(handler["description"]["arguments"], ["serve"])
        self.assertIs(handler["enableForwardingHttpRequest"], True)
        self.assertIn("FUNCTIONS_CUSTOMHANDLER_PORT", (ROOT / "backend/src/main.rs").read_text())

    def test_workflows_parse_and_run_the_readme_commands(self):
        workflows = ROOT / ".github/workflows"
        ci = yaml.safe_load((workflows / "ci.yml").read_text())
        steps = [s.get("run", "") for job in ci["jobs"].values() for s in job["steps"]]
        self.assertIn("bash .ci/run", steps)
        release = yaml.safe_load((workflows / "release.yml").read_text())
        matrix = release["jobs"]["desktop"]["strategy"]["matrix"]["include"]
        self.assertEqual({m["os"].split("-")[0] for m in matrix}, {"windows", "macos", "ubuntu"})
        self.assertIn("backend-image", release["jobs"])


if __name__ == "__main__":
    unittest.main()
