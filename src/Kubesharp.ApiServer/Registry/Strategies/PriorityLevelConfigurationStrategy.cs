using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>
/// flowcontrol.apiserver.k8s.io PriorityLevelConfigurations: upstream's defaults (30 shares, 0 % lendable,
/// 64 queues of hand size 8 and length 50) and the checks that keep a level dispatchable.
/// </summary>
internal sealed class PriorityLevelConfigurationStrategy(ApiResource resource) : ResourceStrategy(resource)
{
    private static readonly string[] Types = ["Exempt", "Limited"];
    private static readonly string[] ResponseTypes = ["Queue", "Reject"];

    public override void PrepareForCreate(JsonObject obj)
    {
        base.PrepareForCreate(obj);
        ApplyDefaults(obj);
    }

    public override void PrepareForUpdate(JsonObject updated, JsonObject old)
    {
        base.PrepareForUpdate(updated, old);
        ApplyDefaults(updated);
    }

    public override void Validate(JsonObject obj, JsonObject? old, List<StatusCause> causes)
    {
        base.Validate(obj, old, causes);
        var spec = obj["spec"] as JsonObject ?? [];
        var type = (string?)spec["type"] ?? string.Empty;
        if (!Types.Contains(type))
        {
            causes.Add(Unsupported("spec.type", type, Types));
            return;
        }

        var name = (string?)obj["metadata"]?["name"];
        if (name == "exempt" && type != "Exempt")
        {
            causes.Add(Forbidden("spec.type", "the exempt priority level must be of type Exempt"));
        }

        if (type == "Exempt")
        {
            if (spec["limited"] is not null)
            {
                causes.Add(Forbidden("spec.limited", "must be nil if the type is not Limited"));
            }

            ValidateShares(spec["exempt"] as JsonObject, "spec.exempt", causes);
            return;
        }

        if (spec["limited"] is not JsonObject limited)
        {
            causes.Add(Required("spec.limited", "must not be empty when type is Limited"));
            return;
        }

        ValidateShares(limited, "spec.limited", causes);
        var response = limited["limitResponse"] as JsonObject ?? [];
        var responseType = (string?)response["type"] ?? string.Empty;
        if (!ResponseTypes.Contains(responseType))
        {
            causes.Add(Unsupported("spec.limited.limitResponse.type", responseType, ResponseTypes));
            return;
        }

        if (responseType == "Reject")
        {
            if (response["queuing"] is not null)
            {
                causes.Add(Forbidden("spec.limited.limitResponse.queuing", "must be nil if limited.limitResponse.type is not Queue"));
            }

            return;
        }

        var queuing = response["queuing"] as JsonObject ?? [];
        var queues = JsonNumber.Int64(queuing["queues"]) ?? 0;
        var handSize = JsonNumber.Int64(queuing["handSize"]) ?? 0;
        var queueLengthLimit = JsonNumber.Int64(queuing["queueLengthLimit"]) ?? 0;
        Positive(queues, "spec.limited.limitResponse.queuing.queues", causes);
        Positive(handSize, "spec.limited.limitResponse.queuing.handSize", causes);
        Positive(queueLengthLimit, "spec.limited.limitResponse.queuing.queueLengthLimit", causes);
        if (queues > 0 && handSize > queues)
        {
            causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: {handSize}: should not be greater than queues ({queues})", "spec.limited.limitResponse.queuing.handSize"));
        }
        else if (queues > 0 && handSize > 0 && HandEntropyBits(queues, handSize) > 60)
        {
            causes.Add(new StatusCause("FieldValueInvalid",
                $"Invalid value: {handSize}: required entropy bits of deckSize {queues} and handSize {handSize} should not be greater than 60",
                "spec.limited.limitResponse.queuing.handSize"));
        }
    }

    private static void ValidateShares(JsonObject? section, string path, List<StatusCause> causes)
    {
        if (section is null)
        {
            return;
        }

        if (JsonNumber.Int64(section["nominalConcurrencyShares"]) is < 0 and var shares)
        {
            causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: {shares}: must be a non-negative integer", path + ".nominalConcurrencyShares"));
        }

        if (JsonNumber.Int64(section["lendablePercent"]) is { } percent && percent is < 0 or > 100)
        {
            causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: {percent}: must be between 0 and 100, inclusive", path + ".lendablePercent"));
        }
    }

    private static void Positive(long value, string field, List<StatusCause> causes)
    {
        if (value <= 0)
        {
            causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: {value}: must be positive", field));
        }
    }

    /// <summary>Bits to deal a hand: the sum of log2 of the falling deck sizes.</summary>
    private static double HandEntropyBits(long deck, long hand)
    {
        var bits = 0.0;
        for (var i = 0; i < hand; i++)
        {
            bits += Math.Log2(deck - i);
        }

        return bits;
    }

    private static void ApplyDefaults(JsonObject obj)
    {
        if (obj["spec"] is not JsonObject spec)
        {
            return;
        }

        if ((string?)spec["type"] == "Exempt" && spec["exempt"] is JsonObject exempt)
        {
            Default(exempt, "nominalConcurrencyShares", 0);
            Default(exempt, "lendablePercent", 0);
        }

        if ((string?)spec["type"] != "Limited" || spec["limited"] is not JsonObject limited)
        {
            return;
        }

        Default(limited, "nominalConcurrencyShares", 30);
        Default(limited, "lendablePercent", 0);
        if (limited["limitResponse"] is JsonObject response && (string?)response["type"] == "Queue")
        {
            var queuing = Ensure(response, "queuing");
            foreach (var (field, value) in new[] { ("queues", 64), ("handSize", 8), ("queueLengthLimit", 50) })
            {
                if (queuing[field] is null || JsonNumber.Int64(queuing[field]) == 0)
                {
                    queuing[field] = value;
                }
            }
        }
    }
}
