/* msgstore demo: several clients open one message of one store, change it, and save.
 *
 *   Rule 1  the first SaveChanges proceeds as if its client were alone;
 *   Rule 2  a later SaveChanges from a client whose view is stale writes nothing and returns
 *           MAPI_E_OBJECT_CHANGED;
 *   Rule 3  that client may save again with FORCE_SAVE: its changes replace the others'.
 *
 * Usage: demo [STORE-PATH]   (default: a fresh file in the current directory)
 * Every call goes through the COM vtables exactly as a MAPI client would make it.
 */
#include "msgstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *hr_name(HRESULT hr) {
  const char *name = "?";
  MsgStoreErrorName(hr, &name);
  return name;
}

/* Stops the demo on an unexpected result, with the library's own explanation. */
static void expect(const char *what, HRESULT hr, HRESULT want) {
  if (hr == want) return;
  fprintf(stderr, "demo: %s returned %s (0x%08X), expected %s\n", what, hr_name(hr), (unsigned)hr,
          hr_name(want));
  LPMAPIERROR err = NULL;
  if (MsgStoreGetLastError(hr, 0, &err) == S_OK && err) {
    fprintf(stderr, "      %s\n", err->lpszError);
    MAPIFreeBuffer(err);
  }
  exit(1);
}

static void set_text(LPMESSAGE msg, ULONG tag, const char *text) {
  SPropValue v;
  memset(&v, 0, sizeof v);
  v.ulPropTag = tag;
  v.Value.lpszA = (char *)text;
  expect("SetProps", msg->lpVtbl->SetProps(msg, 1, &v, NULL), S_OK);
}

/* Prints a message's subject and body as the given object sees them. */
static void show(const char *who, LPMESSAGE msg) {
  ULONG tags[3] = {2, PR_SUBJECT_A, PR_BODY_A};
  ULONG n = 0;
  LPSPropValue vals = NULL;
  HRESULT hr = msg->lpVtbl->GetProps(msg, (LPSPropTagArray)tags, 0, &n, &vals);
  if (FAILED(hr)) expect("GetProps", hr, S_OK);
  printf("      %-9s sees  subject \"%s\"  body \"%s\"\n", who,
         PROP_TYPE(vals[0].ulPropTag) == PT_ERROR ? "(none)" : vals[0].Value.lpszA,
         PROP_TYPE(vals[1].ulPropTag) == PT_ERROR ? "(none)" : vals[1].Value.lpszA);
  MAPIFreeBuffer(vals);
}

static void show_change_key(const char *who, LPMESSAGE msg) {
  ULONG tags[2] = {1, PR_CHANGE_KEY};
  ULONG n = 0;
  LPSPropValue v = NULL;
  expect("GetProps", msg->lpVtbl->GetProps(msg, (LPSPropTagArray)tags, 0, &n, &v), S_OK);
  printf("      %-9s change key ...", who);
  for (ULONG i = v->Value.bin.cb - 6; i < v->Value.bin.cb; i++) printf("%02X", v->Value.bin.lpb[i]);
  printf(" (store GUID + 6-byte change number)\n");
  MAPIFreeBuffer(v);
}

static LPMESSAGE open_client(LPMDB store, SBinary *eid) {
  ULONG type = 0;
  LPUNKNOWN unk = NULL;
  expect("OpenEntry", store->lpVtbl->OpenEntry(store, eid->cb, (LPENTRYID)eid->lpb, NULL,
                                               MAPI_MODIFY, &type, &unk), S_OK);
  return (LPMESSAGE)unk;
}

static void say(const char *step, const char *what, HRESULT hr) {
  printf("%-6s %-62s -> %s\n", step, what, hr_name(hr));
}

int main(int argc, char **argv) {
  char path[4096];
  if (argc > 1) {
    snprintf(path, sizeof path, "%s", argv[1]);
  } else {
    snprintf(path, sizeof path, "msgstore-demo-%ld.db", (long)getpid());
  }
  printf("msgstore demo: several clients save one message (store file %s)\n\n", path);

  LPMDB store = NULL;
  expect("MsgStoreOpen", MsgStoreOpen(path, MAPI_CREATE | MDB_WRITE, &store), S_OK);
  ULONG type = 0;
  LPMAPIFOLDER root = NULL;
  expect("OpenEntry(root)", store->lpVtbl->OpenEntry(store, 0, NULL, NULL, MAPI_MODIFY, &type,
                                                     (LPUNKNOWN *)&root), S_OK);

  /* A message everyone will open. */
  LPMESSAGE draft = NULL;
  expect("CreateMessage", root->lpVtbl->CreateMessage(root, NULL, 0, &draft), S_OK);
  set_text(draft, PR_SUBJECT_A, "Quarterly report");
  set_text(draft, PR_BODY_A, "First draft.");
  HRESULT hr = draft->lpVtbl->SaveChanges(draft, KEEP_OPEN_READONLY);
  say("setup", "CreateMessage + SetProps + SaveChanges", hr);
  expect("SaveChanges", hr, S_OK);
  ULONG eid_tag[2] = {1, PR_ENTRYID};
  ULONG n = 0;
  LPSPropValue eid = NULL;
  expect("GetProps(PR_ENTRYID)",
         draft->lpVtbl->GetProps(draft, (LPSPropTagArray)eid_tag, 0, &n, &eid), S_OK);
  draft->lpVtbl->Release(draft);

  /* Two clients open the same message: each gets its own private working copy. */
  LPMESSAGE alice = open_client(store, &eid->Value.bin);
  LPMESSAGE bob = open_client(store, &eid->Value.bin);
  printf("\nAlice and Bob each open the message with MAPI_MODIFY:\n");
  show("Alice", alice);
  show("Bob", bob);

  set_text(alice, PR_SUBJECT_A, "Quarterly report (Alice's numbers)");
  set_text(bob, PR_SUBJECT_A, "Quarterly report (Bob's wording)");
  set_text(bob, PR_BODY_A, "Bob rewrote the body.");
  printf("\nBoth change it; neither sees the other's unsaved edits:\n");
  show("Alice", alice);
  show("Bob", bob);

  printf("\n");
  hr = alice->lpVtbl->SaveChanges(alice, KEEP_OPEN_READWRITE);
  say("rule 1", "Alice saves first: SaveChanges(KEEP_OPEN_READWRITE)", hr);
  expect("Alice's SaveChanges", hr, S_OK);
  show_change_key("Alice", alice);

  hr = bob->lpVtbl->SaveChanges(bob, KEEP_OPEN_READWRITE);
  say("rule 2", "Bob saves a stale view: SaveChanges(KEEP_OPEN_READWRITE)", hr);
  expect("Bob's SaveChanges", hr, MAPI_E_OBJECT_CHANGED);
  {
    LPMAPIERROR err = NULL;
    if (bob->lpVtbl->GetLastError(bob, hr, 0, &err) == S_OK && err) {
      printf("       GetLastError: %s\n", err->lpszError);
      MAPIFreeBuffer(err);
    }
  }
  LPMESSAGE carol = open_client(store, &eid->Value.bin);
  printf("       nothing was written: a fresh client (Carol) reads the store, Bob keeps his edits:\n");
  show("Carol", carol);
  show("Bob", bob);
  carol->lpVtbl->Release(carol);

  hr = bob->lpVtbl->SaveChanges(bob, FORCE_SAVE | KEEP_OPEN_READWRITE);
  say("rule 3", "Bob saves again with FORCE_SAVE", hr);
  expect("Bob's forced SaveChanges", hr, S_OK);
  LPMESSAGE dave = open_client(store, &eid->Value.bin);
  printf("       Bob's changes replaced Alice's:\n");
  show("Dave", dave);
  show_change_key("Bob", bob);

  hr = alice->lpVtbl->SaveChanges(alice, KEEP_OPEN_READWRITE);
  say("", "Alice (no new edits since her save) saves again", hr);
  set_text(alice, PR_BODY_A, "Alice adds a late note.");
  hr = alice->lpVtbl->SaveChanges(alice, KEEP_OPEN_READWRITE);
  say("rule 2", "Alice edits her now-stale view and saves", hr);
  expect("Alice's second SaveChanges", hr, MAPI_E_OBJECT_CHANGED);

  dave->lpVtbl->Release(dave);
  alice->lpVtbl->Release(alice);
  bob->lpVtbl->Release(bob);
  MAPIFreeBuffer(eid);
  root->lpVtbl->Release(root);
  store->lpVtbl->Release(store);
  if (argc <= 1) {
    unlink(path);
    char side[4200];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
  }
  printf("\nDone: every rule held, and nothing was lost silently.\n");
  return 0;
}
