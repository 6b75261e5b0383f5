<?php

namespace Monei\Concurrency\Fuzz;

/** Calls made from a file without strict_types: PHP coerces scalars (and Stringable objects). */
function invoke_weak(string $kind, string $class, string $name, ?object $obj, array $args): mixed
{
    return match ($kind) {
        'function' => $name(...$args),
        'new' => new $class(...$args),
        'static' => $class::$name(...$args),
        'method' => $obj->$name(...$args),
    };
}
