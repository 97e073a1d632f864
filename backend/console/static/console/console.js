// The moderators' console in the browser: keyboard decisions on the queue (A, R, J/K), and
// cases arriving or decided elsewhere over /ws/console/ without a reload. Decisions go to the
// moderation API with the session's CSRF token; the page's words come from the server.
const strings = JSON.parse(document.getElementById("console-strings")?.textContent || "{}");
const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
const say = (key, id) => (strings[key] || key).replace("{id}", id);

function toast(text, kind = "") {
  const box = document.getElementById("toasts");
  if (!box) return;
  const item = document.createElement("div");
  item.className = `toast ${kind}`;
  item.textContent = text;
  box.append(item);
  setTimeout(() => item.remove(), 4000);
}

function setPendingCount(count) {
  const badge = document.getElementById("pending-count");
  if (badge && Number.isInteger(count)) badge.textContent = String(count);
}

class Queue {
  constructor(list) {
    this.list = list;
    this.selected = null;
    this.syncing = null;
    this.again = false;
    for (const card of this.cards()) this.wire(card);
    if (this.cards().length) this.select(this.cards()[0]);
    document.addEventListener("keydown", (event) => this.onKey(event));
  }

  cards() { return [...this.list.querySelectorAll(":scope > .case")]; }

  wire(card) {
    card.addEventListener("click", (event) => {
      if (!event.target.closest("a, audio, video")) this.select(card, false);
      const button = event.target.closest("[data-decide]");
      if (button?.dataset.decide === "approve") this.approve(card);
      if (button?.dataset.decide === "reject") this.openReject(card);
    });
    const form = card.querySelector(".reject-form");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.reject(card, form.reason.value);
    });
    form.querySelector(".cancel").addEventListener("click", () => this.closeReject(card));
  }

  select(card, scroll = true) {
    if (!card) return;
    this.selected?.classList.remove("selected");
    this.selected = card;
    card.classList.add("selected");
    if (scroll) card.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  step(by) {
    const cards = this.cards();
    const at = cards.indexOf(this.selected);
    this.select(cards[Math.min(cards.length - 1, Math.max(0, at + by))]);
  }

  onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const typing = event.target.closest?.("input, textarea, select");
    if (event.key === "Escape" && this.selected) {
      this.closeReject(this.selected);
      return;
    }
    if (typing || !this.selected) return;
    const key = event.key.toLowerCase();
    const actions = { j: () => this.step(1), k: () => this.step(-1),
                      a: () => this.approve(this.selected), r: () => this.openReject(this.selected) };
    if (actions[key]) {
      event.preventDefault();
      actions[key]();
    }
  }

  openReject(card) {
    const form = card.querySelector(".reject-form");
    form.hidden = false;
    form.reason.focus();
  }

  closeReject(card) {
    const form = card.querySelector(".reject-form");
    if (form.hidden) return;
    form.hidden = true;
    card.querySelector("[data-decide=reject]").focus({ preventScroll: true });
  }

  async approve(card) { await this.decide(card, "approve", ""); }

  async reject(card, reason) {
    if (!reason.trim()) {
      toast(say("reasonRequired"), "error");
      return;
    }
    await this.decide(card, "reject", reason.trim());
  }

  async decide(card, decision, reason) {
    if (card.dataset.busy) return;
    card.dataset.busy = "1";
    const id = card.dataset.case;
    try {
      const answer = await fetch(`/moderation/cases/${id}/${decision}`, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ reason }),
      });
      const body = await answer.json().catch(() => ({}));
      if (answer.ok) {
        toast(say(decision === "approve" ? "approved" : "rejected", id));
        this.remove(card);
      } else if (body.error?.code === "already_decided") {
        toast(body.error.message);
        this.remove(card);
      } else {
        toast(body.error?.message || say("failed"), "error");
      }
    } catch {
      toast(say("failed"), "error");
    } finally {
      delete card.dataset.busy;
    }
  }

  remove(card) {
    if (!card.isConnected) return;
    if (card === this.selected) {
      const cards = this.cards();
      const at = cards.indexOf(card);
      card.classList.remove("selected");
      this.selected = null;
      this.select(cards[at + 1] || cards[at - 1], true);
    }
    card.classList.add("leaving");
    card.dataset.gone = "1";
    setTimeout(() => { card.remove(); this.showEmpty(); }, 250);
    const badge = document.getElementById("pending-count");
    if (badge) setPendingCount(Math.max(0, Number(badge.textContent) - 1));
  }

  showEmpty() {
    document.getElementById("queue-empty").hidden = this.cards().some((c) => !c.dataset.gone);
  }

  // Bring the list in line with the server's (same filters): cards that are new arrive, cards
  // decided elsewhere go; a card being worked on keeps its DOM (and the reason being typed).
  async sync() {
    if (this.syncing) { this.again = true; return; }
    this.syncing = (async () => {
      const answer = await fetch(location.href, { credentials: "same-origin" });
      if (answer.redirected || !answer.ok) return;
      const page = new DOMParser().parseFromString(await answer.text(), "text/html");
      const fresh = page.getElementById("queue");
      if (!fresh) return;
      const mine = new Map(this.cards().map((c) => [c.dataset.case, c]));
      const order = [];
      for (const card of fresh.querySelectorAll(":scope > .case")) {
        const known = mine.get(card.dataset.case);
        if (known && !known.dataset.gone) {
          order.push(known);
          mine.delete(card.dataset.case);
        } else if (!known) {
          const arrived = document.importNode(card, true);
          arrived.classList.add("arrived");
          this.wire(arrived);
          order.push(arrived);
          toast(say("arrived", card.dataset.case));
        }
      }
      for (const [id, card] of mine) {
        if (!card.dataset.gone) {
          toast(say("decidedElsewhere", id));
          this.remove(card);
        }
      }
      for (const card of order) this.list.append(card);
      setPendingCount(Number(page.getElementById("pending-count")?.textContent));
      if (!this.selected?.isConnected || this.selected.dataset.gone) this.select(order[0], false);
      this.showEmpty();
    })();
    try {
      await this.syncing;
    } catch {
      // the next event or reconnection syncs again
    } finally {
      this.syncing = null;
      if (this.again) { this.again = false; this.sync(); }
    }
  }
}

function listen(onEvent) {
  const badge = document.getElementById("live");
  let delay = 1000;
  const show = (state) => {
    if (!badge) return;
    badge.hidden = false;
    badge.dataset.state = state;
    badge.textContent = say(state === "on" ? "live" : "offline");
  };
  const open = () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/console/`);
    socket.addEventListener("message", (message) => {
      const event = JSON.parse(message.data);
      if (event.type === "console.ready") {
        show("on");
        delay = 1000;
      }
      onEvent(event);
    });
    socket.addEventListener("close", (closed) => {
      show("off");
      if (closed.code === 4401 || closed.code === 4403) {
        toast(say("signedOut"), "error");
        return;
      }
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 30000);
    });
  };
  open();
}

const list = document.getElementById("queue");
if (list) {
  const queue = new Queue(list);
  // On (re)connecting, catch up with anything missed; then follow each arrival or decision.
  listen(() => queue.sync());
} else if (document.body.dataset.section) {
  // Elsewhere the queue's badge follows arrivals and decisions.
  listen((event) => {
    if (event.type !== "console.case") return;
    const count = Number(document.getElementById("pending-count")?.textContent);
    setPendingCount(Math.max(0, count + (event.state === "pending" ? 1 : -1)));
  });
}

// Filters apply as soon as one changes.
for (const select of document.querySelectorAll(".filters select")) {
  select.addEventListener("change", () => select.form.requestSubmit());
}
