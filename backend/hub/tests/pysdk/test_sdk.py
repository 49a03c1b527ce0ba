"""chatr-hub against Microsoft's Python SDKs for Azure Web PubSub, unmodified.

The service SDK (azure-messaging-webpubsubservice) drives the data-plane REST API: tokens, sends
to all/groups/users/connections with filters, group and user membership, existence checks,
listing, permissions and closing. Clients are the official azure-messaging-webpubsubclient on the
reliable JSON subprotocol. The hub is the real binary (CHATR_HUB_BIN), started per test class.

Run: python -m unittest discover -s backend/hub/tests/pysdk -v
"""

import os
import queue
import secrets
import subprocess
import time
import unittest
from pathlib import Path

from azure.core.exceptions import HttpResponseError
from azure.messaging.webpubsubclient import WebPubSubClient, WebPubSubClientCredential
from azure.messaging.webpubsubclient.models import CallbackType, WebPubSubDataType
from azure.messaging.webpubsubservice import WebPubSubServiceClient

ROOT = Path(__file__).resolve().parents[4]
HUB_BIN = os.environ.get("CHATR_HUB_BIN", str(ROOT / "target/debug/chatr-hub"))
HUB = "chat"
TIMEOUT = 10


class Client:
    """An official SDK client, with everything it receives queued for the test to inspect."""

    def __init__(self, service, user_id, roles=(), groups=()):
        token = service.get_client_access_token(user_id=user_id, roles=list(roles), groups=list(groups))
        self.received = queue.Queue()
        self.connected = queue.Queue()
        self.disconnected = queue.Queue()
        self.sdk = WebPubSubClient(credential=WebPubSubClientCredential(token["url"]))
        self.sdk.subscribe(CallbackType.CONNECTED, lambda e: self.connected.put(e))
        self.sdk.subscribe(CallbackType.DISCONNECTED, lambda e: self.disconnected.put(e))
        self.sdk.subscribe(CallbackType.GROUP_MESSAGE, lambda e: self.received.put(("group", e.group, e.data)))
        self.sdk.subscribe(CallbackType.SERVER_MESSAGE, lambda e: self.received.put(("server", None, e.data)))
        self.sdk.open()
        event = self.connected.get(timeout=TIMEOUT)
        self.connection_id = event.connection_id
        self.user_id = event.user_id

    def next(self):
        return self.received.get(timeout=TIMEOUT)

    def nothing_more(self, wait=0.5):
        time.sleep(wait)
        return self.received.empty()

    def close(self):
        self.sdk.close()


class HubTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        key = secrets.token_urlsafe(32)
        cls.hub = subprocess.Popen(
            [HUB_BIN, "--listen", "127.0.0.1:0", "--access-key", key, "--hub", HUB],
            stdout=subprocess.PIPE,
            text=True,
        )
        # The first line is the connection string, with the port the hub got.
        cls.connection_string = cls.hub.stdout.readline().strip()
        cls.service = WebPubSubServiceClient.from_connection_string(cls.connection_string, hub=HUB)
        cls.clients = []

    @classmethod
    def tearDownClass(cls):
        for client in cls.clients:
            client.close()
        cls.hub.terminate()
        cls.hub.wait(timeout=TIMEOUT)

    def client(self, user_id, roles=(), groups=()):
        client = Client(self.service, user_id, roles, groups)
        self.clients.append(client)
        return client


class ServiceSdk(HubTestCase):
    def test_tokens_name_the_user_and_the_hub(self):
        token = self.service.get_client_access_token(user_id="ada")
        self.assertTrue(token["baseUrl"].startswith("ws://127.0.0.1:"))
        self.assertTrue(token["baseUrl"].endswith(f"/client/hubs/{HUB}"))
        self.assertEqual(self.client("ada").user_id, "ada")

    def test_sends_reach_all_a_group_a_user_and_a_connection_with_content_types(self):
        alice = self.client("alice", groups=["room"])
        bob = self.client("bob")
        self.service.send_to_all("hello all", content_type="text/plain")
        self.assertEqual(alice.next(), ("server", None, "hello all"))
        self.assertEqual(bob.next(), ("server", None, "hello all"))

        self.service.send_to_group("room", {"n": 1})
        self.assertEqual(alice.next(), ("group", "room", {"n": 1}))
        self.assertTrue(bob.nothing_more())

        self.service.send_to_user("bob", "to bob", content_type="text/plain")
        self.assertEqual(bob.next(), ("server", None, "to bob"))
        self.service.send_to_connection(alice.connection_id, {"only": "alice"})
        self.assertEqual(alice.next(), ("server", None, {"only": "alice"}))

        # excluded connections and OData filters
        self.service.send_to_all({"n": 2}, excluded=[alice.connection_id])
        self.assertEqual(bob.next(), ("server", None, {"n": 2}))
        self.service.send_to_all({"n": 3}, filter="userId eq 'alice'")
        self.assertEqual(alice.next(), ("server", None, {"n": 3}))
        self.assertTrue(alice.nothing_more() and bob.nothing_more())

    def test_an_invalid_filter_is_a_400(self):
        with self.assertRaises(HttpResponseError) as caught:
            self.service.send_to_all("x", content_type="text/plain", filter="userId eq")
        self.assertEqual(caught.exception.status_code, 400)

    def test_membership_existence_and_listing(self):
        carol = self.client("carol")
        self.assertTrue(self.service.connection_exists(carol.connection_id))
        self.assertTrue(self.service.user_exists("carol"))
        self.assertFalse(self.service.user_exists("nobody"))
        self.assertFalse(self.service.group_exists("py-group"))

        self.service.add_connection_to_group("py-group", carol.connection_id)
        self.assertTrue(self.service.group_exists("py-group"))
        members = list(self.service.list_connections(group="py-group"))
        self.assertEqual([(m.connection_id, m.user_id) for m in members], [(carol.connection_id, "carol")])

        self.service.remove_connection_from_group("py-group", carol.connection_id)
        self.assertFalse(self.service.group_exists("py-group"))
        self.service.add_user_to_group("py-users", "carol")
        self.assertTrue(self.service.group_exists("py-users"))
        self.service.remove_user_from_all_groups("carol")
        self.assertFalse(self.service.group_exists("py-users"))

    def test_permissions_are_granted_checked_and_revoked_and_they_gate_the_client(self):
        dave = self.client("dave")
        erin = self.client("erin", roles=["webpubsub.joinLeaveGroup"])
        erin.sdk.join_group("guarded")
        self.assertFalse(self.service.has_permission("sendToGroup", dave.connection_id, target_name="guarded"))
        with self.assertRaises(Exception):
            dave.sdk.send_to_group("guarded", "not yet", WebPubSubDataType.TEXT)

        self.service.grant_permission("sendToGroup", dave.connection_id, target_name="guarded")
        self.assertTrue(self.service.has_permission("sendToGroup", dave.connection_id, target_name="guarded"))
        dave.sdk.send_to_group("guarded", "now allowed", WebPubSubDataType.TEXT)
        self.assertEqual(erin.next(), ("group", "guarded", "now allowed"))

        self.service.revoke_permission("sendToGroup", dave.connection_id, target_name="guarded")
        self.assertFalse(self.service.has_permission("sendToGroup", dave.connection_id, target_name="guarded"))

    def test_a_connection_closed_over_rest_is_gone_and_the_client_starts_a_new_one(self):
        frank = self.client("frank")
        self.service.close_connection(frank.connection_id, reason="bye")
        frank.disconnected.get(timeout=TIMEOUT)
        # The SDK cannot resume a closed connection (the hub refuses with 1008, as the service
        # does), so it reconnects with a fresh one.
        again = frank.connected.get(timeout=TIMEOUT)
        self.assertNotEqual(again.connection_id, frank.connection_id)
        self.assertFalse(self.service.connection_exists(frank.connection_id))
        self.assertTrue(self.service.connection_exists(again.connection_id))

    def test_a_token_signed_with_another_key_is_refused(self):
        other = WebPubSubServiceClient.from_connection_string(
            self.connection_string.replace("AccessKey=", "AccessKey=x"), hub=HUB
        )
        with self.assertRaises(HttpResponseError) as caught:
            other.send_to_all("x", content_type="text/plain")
        self.assertEqual(caught.exception.status_code, 401)


if __name__ == "__main__":
    unittest.main()
