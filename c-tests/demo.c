/* msgstore demo: several clients open one message of one store, change it, and save.
 *
 *   Rule 1  the first SaveChanges proceeds as if its client were alone;
 *   Rule 2  a later SaveChanges from a client whose view is stale writes nothing and returns
 *           MAPI_E_OBJECT_CHANGED;
 *   Rule 3  that client may save again with FORCE_SAVE: its changes replace the others'.
 *   Rule 4  or the provider detects the conflict and lets the user choose: keep the original,
 *           overwrite it, save the changes elsewhere, or merge (a registered resolver).
 *
 * Usage: demo [--non-interactive] [--choice=k|o|s|m] [STORE-PATH]
 *   With a terminal on stdin the rule-4 conflict is shown and you pick at a prompt; otherwise
 *   (or with --non-interactive) every choice is played in turn, or only --choice.
 * Every call goes through the COM vtables exactly as a MAPI client would make it.
 */
#include "msgstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int g_interactive;
static char g_choice; /* the non-interactive answer for rule 4 (0: the current scripted one) */

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


/* ---- Rule 4: a resolver registered on the store lets the user choose ---------------------- */

static const struct {
  ULONG tag;
  const char *name;
} k_names[] = {{PR_SUBJECT_A, "subject"}, {PR_BODY_A, "body"}, {PR_COMMENT_A, "comment"}};

static const char *tag_name(ULONG tag) {
  size_t i;
  for (i = 0; i < sizeof k_names / sizeof k_names[0]; i++)
    if (PROP_ID(k_names[i].tag) == PROP_ID(tag)) return k_names[i].name;
  return "(other)";
}

/* One property as text ("(none)" when absent), into buf. */
static const char *text_of(LPMESSAGE msg, ULONG tag, char *buf, size_t size) {
  ULONG tags[2] = {1, CHANGE_PROP_TYPE(tag, PT_STRING8)};
  ULONG n = 0;
  LPSPropValue v = NULL;
  HRESULT hr = msg->lpVtbl->GetProps(msg, (LPSPropTagArray)tags, 0, &n, &v);
  snprintf(buf, size, "%s", hr == S_OK ? v->Value.lpszA : "(none)");
  MAPIFreeBuffer(v);
  return buf;
}

typedef struct DemoResolver {
  const IMsgStoreConflictResolverVtbl *lpVtbl;
  ULONG refs;
} DemoResolver;

static HRESULT dr_query_interface(IMsgStoreConflictResolver *This, const IID *riid, void **ppv) {
  (void)This;
  (void)riid;
  *ppv = NULL;
  return MAPI_E_INTERFACE_NOT_SUPPORTED;
}
static ULONG dr_add_ref(IMsgStoreConflictResolver *This) { return ++((DemoResolver *)This)->refs; }
static ULONG dr_release(IMsgStoreConflictResolver *This) { return --((DemoResolver *)This)->refs; }

static char ask_user(void) {
  char line[64];
  for (;;) {
    printf("       [k]eep the original, [o]verwrite it, [s]ave yours elsewhere, or [m]erge? ");
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin)) return 'k';
    if (strchr("kosm", line[0]) && line[0]) return line[0];
  }
}

/* Shows the conflict side by side and returns the user's choice. */
static HRESULT dr_resolve(IMsgStoreConflictResolver *This, LPMESSAGE lpMessage,
                          const MSGCONFLICT *lpConflict, ULONG *lpulAction,
                          LPMAPIFOLDER *lppDestFolder) {
  ULONG i, j;
  char stored[128], mine[128];
  char choice;
  (void)This;
  (void)lppDestFolder; /* NULL: the store's Conflicts folder */
  printf("       CONFLICT: the message changed since you opened it.\n");
  printf("         changed by others:");
  for (i = 0; i < lpConflict->lpTheirChanges->cValues; i++)
    printf(" %s", tag_name(lpConflict->lpTheirChanges->aulPropTag[i]));
  printf("\n         changed by you:   ");
  for (i = 0; i < lpConflict->lpMyChanges->cValues; i++)
    printf(" %s", tag_name(lpConflict->lpMyChanges->aulPropTag[i]));
  printf("\n         %-8s  %-34s  %s\n", "", "stored version", "your version");
  for (i = 0; i < sizeof k_names / sizeof k_names[0]; i++) {
    int changed = 0;
    for (j = 0; j < lpConflict->lpTheirChanges->cValues; j++)
      changed |= PROP_ID(lpConflict->lpTheirChanges->aulPropTag[j]) == PROP_ID(k_names[i].tag);
    for (j = 0; j < lpConflict->lpMyChanges->cValues; j++)
      changed |= PROP_ID(lpConflict->lpMyChanges->aulPropTag[j]) == PROP_ID(k_names[i].tag);
    if (!changed) continue;
    printf("         %-8s  %-34s  %s\n", k_names[i].name,
           text_of(lpConflict->lpStored, k_names[i].tag, stored, sizeof stored),
           text_of(lpMessage, k_names[i].tag, mine, sizeof mine));
  }
  if (g_interactive) {
    choice = ask_user();
  } else {
    choice = g_choice;
    printf("       (non-interactive) choosing [%c]\n", choice);
  }
  switch (choice) {
    case 'o': *lpulAction = MSGSTORE_RESOLVE_OVERWRITE; break;
    case 's': *lpulAction = MSGSTORE_RESOLVE_SAVE_ELSEWHERE; break;
    case 'm': *lpulAction = MSGSTORE_RESOLVE_MERGE; break;
    default: *lpulAction = MSGSTORE_RESOLVE_KEEP_ORIGINAL; break;
  }
  return S_OK;
}

static const IMsgStoreConflictResolverVtbl k_demo_resolver_vtbl = {dr_query_interface, dr_add_ref,
                                                                    dr_release, dr_resolve};

/* Erin and Frank edit the same message; Frank saves second and the resolver asks. */
static void rule4_round(LPMDB store, SBinary *eid, char choice) {
  LPMESSAGE erin = open_client(store, eid);
  LPMESSAGE frank = open_client(store, eid);
  LPMESSAGE after;
  HRESULT hr;
  static int round;
  char erin_body[64], frank_subject[64];
  g_choice = choice;
  round++;
  snprintf(erin_body, sizeof erin_body, "Erin's body, take %d.", round);
  snprintf(frank_subject, sizeof frank_subject, "Frank's subject, take %d", round);
  set_text(erin, PR_BODY_A, erin_body);
  set_text(frank, PR_SUBJECT_A, frank_subject);
  expect("Erin's SaveChanges", erin->lpVtbl->SaveChanges(erin, 0), S_OK);
  printf("\nrule 4 Erin edited the body and saved; Frank edited the subject of his (now stale)\n"
         "       copy and saves with SaveChanges(KEEP_OPEN_READWRITE):\n");
  hr = frank->lpVtbl->SaveChanges(frank, KEEP_OPEN_READWRITE);
  printf("       -> %s\n", hr_name(hr));
  after = open_client(store, eid);
  show("the store", after);
  show("Frank", frank);
  if (choice == 's')
    printf("       Frank's object is now a new message in the store's \"Conflicts\" folder, whose\n"
           "       PR_CONFLICT_ITEMS names the original; the original above is untouched.\n");
  after->lpVtbl->Release(after);
  erin->lpVtbl->Release(erin);
  frank->lpVtbl->Release(frank);
}

int main(int argc, char **argv) {
  char path[4096];
  const char *path_arg = NULL;
  char only_choice = 0;
  int i, non_interactive = 0;
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--non-interactive") == 0) {
      non_interactive = 1;
    } else if (strncmp(argv[i], "--choice=", 9) == 0 && strchr("kosm", argv[i][9]) && argv[i][9]) {
      only_choice = argv[i][9];
    } else if (strcmp(argv[i], "--store") == 0 && i + 1 < argc) {
      path_arg = argv[++i];
    } else if (strncmp(argv[i], "--store=", 8) == 0) {
      path_arg = argv[i] + 8;
    } else if (argv[i][0] != '-') {
      path_arg = argv[i];
    } else {
      fprintf(stderr, "usage: demo [--non-interactive] [--choice=k|o|s|m] [--store] "
                      "[STORE-PATH | postgresql://...?store=NAME]\n");
      return 2;
    }
  }
  g_interactive = !non_interactive && !only_choice && isatty(0);
  if (path_arg) {
    snprintf(path, sizeof path, "%s", path_arg);
  } else {
    snprintf(path, sizeof path, "msgstore-demo-%ld.db", (long)getpid());
  }
  printf("msgstore demo: several clients save one message (store %s)\n\n",
         strncmp(path, "postgres", 8) == 0 ? "in PostgreSQL" : path);

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

  /* Rule 4: register a resolver; from now on a conflict on this store handle asks it. */
  {
    DemoResolver resolver = {&k_demo_resolver_vtbl, 1};
    expect("MsgStoreSetConflictResolver",
           MsgStoreSetConflictResolver(store, (LPMSGSTORECONFLICTRESOLVER)&resolver), S_OK);
    printf("\nA conflict resolver is registered on the store (MsgStoreSetConflictResolver).\n");
    if (g_interactive) {
      rule4_round(store, &eid->Value.bin, 0);
    } else if (only_choice) {
      rule4_round(store, &eid->Value.bin, only_choice);
    } else {
      rule4_round(store, &eid->Value.bin, 'm');
      rule4_round(store, &eid->Value.bin, 's');
      rule4_round(store, &eid->Value.bin, 'k');
      rule4_round(store, &eid->Value.bin, 'o');
    }
    expect("MsgStoreSetConflictResolver(NULL)", MsgStoreSetConflictResolver(store, NULL), S_OK);
    if (resolver.refs != 1) {
      fprintf(stderr, "demo: the resolver's reference count did not balance\n");
      return 1;
    }
  }

  dave->lpVtbl->Release(dave);
  alice->lpVtbl->Release(alice);
  bob->lpVtbl->Release(bob);
  MAPIFreeBuffer(eid);
  root->lpVtbl->Release(root);
  store->lpVtbl->Release(store);
  if (!path_arg) {
    unlink(path);
    char side[4200];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-writers", path);
    unlink(side);
  }
  if (MsgStoreLiveObjects() != 0) {
    fprintf(stderr, "demo: %u objects were not released\n", (unsigned)MsgStoreLiveObjects());
    return 1;
  }
  printf("\nDone: every rule held, and nothing was lost silently.\n");
  return 0;
}
