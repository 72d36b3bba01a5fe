using System.Text.Json;
using System.Text.Json.Serialization;

namespace Vigil.Tools.Bench.Handoff;

/// <summary>One list price: the figure, where it is published, and when it was known to be that.</summary>
/// <param name="Price">In <see cref="Prices.Currency"/>, per the unit its name says.</param>
/// <param name="Source">Who publishes it, for what, in which region.</param>
/// <param name="AsOf">When the figure was read (or known).</param>
public sealed record ListPrice(double Price, string Source, [property: JsonPropertyName("as_of")] string AsOf);

/// <summary>
/// The list prices a stream-hour is priced with: the benchmark's inputs, read from a small JSON file
/// (<c>src/Vigil.Tools/Bench/prices.json</c>, copied beside the tools), each with its source and date.
/// </summary>
public sealed record Prices(
    string Note,
    string Currency,
    [property: JsonPropertyName("compute_per_vcpu_hour")] ListPrice ComputePerVcpuHour,
    [property: JsonPropertyName("memory_per_gib_hour")] ListPrice MemoryPerGibHour,
    [property: JsonPropertyName("object_put_per_1000")] ListPrice ObjectPutPer1000,
    [property: JsonPropertyName("object_get_per_1000")] ListPrice ObjectGetPer1000,
    [property: JsonPropertyName("transition_per_1000")] ListPrice TransitionPer1000)
{
    /// <summary>The committed price file, beside this assembly.</summary>
    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, "prices.json");

    /// <summary>Reads <paramref name="path"/> (default <see cref="DefaultPath"/>); every price must be there and not negative.</summary>
    public static Prices Load(string? path = null)
    {
        path ??= DefaultPath;
        var prices = JsonSerializer.Deserialize<Prices>(File.ReadAllText(path), new JsonSerializerOptions { PropertyNameCaseInsensitive = true })
                     ?? throw new InvalidDataException($"{path}: no prices");
        foreach (var (name, price) in prices.All)
            if (price is null || price.Price < 0 || double.IsNaN(price.Price))
                throw new InvalidDataException($"{path}: '{name}' is missing or negative");
        return prices;
    }

    /// <summary>Every price with its name in the file.</summary>
    [JsonIgnore]
    public IEnumerable<(string Name, ListPrice Price)> All =>
    [
        ("compute_per_vcpu_hour", ComputePerVcpuHour), ("memory_per_gib_hour", MemoryPerGibHour), ("object_put_per_1000", ObjectPutPer1000),
        ("object_get_per_1000", ObjectGetPer1000), ("transition_per_1000", TransitionPer1000),
    ];
}

/// <summary>What one stream-hour costs at <see cref="Prices"/>, by part.</summary>
public sealed record StreamHourCost(double Compute, double Memory, double Puts, double Gets, double Transitions)
{
    public double Total => Compute + Memory + Puts + Gets + Transitions;

    /// <summary>Prices a run's per-stream-hour usage.</summary>
    /// <param name="prices">The list prices.</param>
    /// <param name="cpuSeconds">CPU seconds per stream-hour, all processes.</param>
    /// <param name="memoryGib">Memory held per stream (peak, all processes, divided by the streams) for the hour.</param>
    /// <param name="puts">Object PUTs per stream-hour.</param>
    /// <param name="gets">Object GETs per stream-hour.</param>
    /// <param name="transitions">Orchestration state transitions per stream-hour.</param>
    public static StreamHourCost Of(Prices prices, double cpuSeconds, double memoryGib, double puts, double gets, double transitions) => new(
        cpuSeconds / 3600 * prices.ComputePerVcpuHour.Price,
        memoryGib * prices.MemoryPerGibHour.Price,
        puts / 1000 * prices.ObjectPutPer1000.Price,
        gets / 1000 * prices.ObjectGetPer1000.Price,
        transitions / 1000 * prices.TransitionPer1000.Price);
}
