namespace Kubesharp.ApiServer.FlowControl;

/// <summary>
/// Shuffle sharding: a flow's hash picks a hand of distinct queues out of the deck, so two flows rarely share all
/// of their queues and one heavy flow cannot fill every queue of a priority level.
/// </summary>
internal sealed class ShuffleShardDealer
{
    public ShuffleShardDealer(int deckSize, int handSize)
    {
        DeckSize = Math.Max(1, deckSize);
        HandSize = Math.Clamp(handSize, 1, DeckSize);
    }

    public int DeckSize { get; }

    public int HandSize { get; }

    /// <summary>The hand for <paramref name="hash"/>: the hash read as digits of falling bases, each digit a card among those left.</summary>
    public int[] Deal(ulong hash)
    {
        var hand = new int[HandSize];
        var sorted = new List<int>(HandSize);
        for (var i = 0; i < HandSize; i++)
        {
            var remaining = (ulong)(DeckSize - i);
            var card = (int)(hash % remaining);
            hash /= remaining;
            // The card indexes the cards not yet dealt: step over every dealt one at or below it.
            foreach (var dealt in sorted)
            {
                if (card >= dealt)
                {
                    card++;
                }
                else
                {
                    break;
                }
            }

            var at = sorted.BinarySearch(card);
            sorted.Insert(at < 0 ? ~at : at, card);
            hand[i] = card;
        }

        return hand;
    }

    /// <summary>FNV-1a over the flow's identity: the schema name and the distinguisher.</summary>
    public static ulong FlowHash(string schema, string distinguisher)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in schema)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        hash = (hash ^ 0) * 1099511628211UL;
        foreach (var c in distinguisher)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash;
    }
}
