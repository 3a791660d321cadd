// Which conversations have visitor messages this agent hasn't looked at yet.
// The server keeps no read state, so it lives in this browser: per agent, the newest
// visitor message timestamp seen in each conversation.

const MAX_REMEMBERED = 1000;

export class UnreadTracker {
  constructor(agentId) {
    this.key = `frontdesk.inbox.seen.${agentId}`;
    this.latestInbound = new Map();
    this.state = this.load();
  }

  load() {
    try {
      const stored = JSON.parse(window.localStorage.getItem(this.key) || "null");
      if (stored && typeof stored === "object" && stored.seen) return stored;
    } catch {
      // unreadable storage: start afresh rather than break the inbox
    }
    return { baseline: null, seen: {} };
  }

  save() {
    const ids = Object.keys(this.state.seen);
    if (ids.length > MAX_REMEMBERED) {
      // Forget the oldest marks; those conversations fall back to the baseline.
      ids.sort((a, b) => (this.state.seen[a] < this.state.seen[b] ? -1 : 1));
      for (const id of ids.slice(0, ids.length - MAX_REMEMBERED)) delete this.state.seen[id];
    }
    try {
      window.localStorage.setItem(this.key, JSON.stringify(this.state));
    } catch {
      // private mode or full storage: unread marks just won't survive a reload
    }
  }

  // On the first visit everything already there counts as seen: an agent opening the
  // inbox for the first time wants to hear about what is new, not about last month.
  ensureBaseline(conversations) {
    if (this.state.baseline !== null) return;
    let newest = "";
    for (const conversation of conversations) {
      const stamp = conversation.last_message ? conversation.last_message.timestamp : conversation.updated_at;
      if (stamp && stamp > newest) newest = stamp;
    }
    this.state.baseline = newest;
    this.save();
  }

  noteConversation(conversation) {
    const last = conversation.last_message;
    return last ? this.noteMessage(conversation.id, last) : false;
  }

  // Returns true when the message is a visitor's and newer than anything known.
  noteMessage(conversationId, message) {
    if (!needsAttention(message)) return false;
    const known = this.latestInbound.get(conversationId);
    if (known && known >= message.timestamp) return false;
    this.latestInbound.set(conversationId, message.timestamp);
    return true;
  }

  isUnread(conversationId) {
    const latest = this.latestInbound.get(conversationId);
    if (!latest) return false;
    const seen = this.state.seen[conversationId] || this.state.baseline || "";
    return latest > seen;
  }

  markSeen(conversationId) {
    const latest = this.latestInbound.get(conversationId);
    if (!latest || !this.isUnread(conversationId)) return false;
    this.state.seen[conversationId] = latest;
    this.save();
    return true;
  }

  count() {
    let total = 0;
    for (const id of this.latestInbound.keys()) if (this.isUnread(id)) total += 1;
    return total;
  }
}

// A visitor's message, or the auto-reply to one: the bot answering (no agent) must not make
// a new conversation look handled, and in a list the auto-reply is all that shows of it.
export function needsAttention(message) {
  if (message.private) return false;
  return message.direction === "inbound" || (message.direction === "outbound" && message.agent_id === null);
}
