<?php

declare(strict_types=1);

namespace Symfony\Component\Console\Input;

/**
 * Double of Symfony Console's ArrayInput: ['order' => '1', '--payment' => 'p', '--force' => true].
 * Bound by the Command double's run() to the command's arguments and options,
 * with Symfony's errors for unknown options and missing arguments.
 */
class ArrayInput implements InputInterface
{
    private array $arguments = [];
    private array $options = [];
    private bool $interactive = false;

    public function __construct(private array $parameters, $definition = null)
    {
    }

    /**
     * @param array<string, InputArgument> $arguments
     * @param array<string, InputOption> $options
     */
    public function bindTo(array $arguments, array $options): void
    {
        $this->arguments = [];
        $this->options = [];
        foreach ($this->parameters as $key => $value) {
            if ($key === 'command') {
                continue;
            }
            if (str_starts_with((string) $key, '--')) {
                $name = substr((string) $key, 2);
                if (!isset($options[$name])) {
                    throw new \InvalidArgumentException(sprintf('The "--%s" option does not exist.', $name));
                }
                if (!$options[$name]->acceptValue()) {
                    $value = true;
                } elseif ($value === null && $options[$name]->isValueRequired()) {
                    throw new \InvalidArgumentException(sprintf('The "--%s" option requires a value.', $name));
                }
                $this->options[$name] = $value;
            } else {
                if (!isset($arguments[$key])) {
                    throw new \InvalidArgumentException(sprintf('The "%s" argument does not exist.', $key));
                }
                $this->arguments[$key] = $value;
            }
        }
        $missing = [];
        foreach ($arguments as $name => $arg) {
            if (!array_key_exists($name, $this->arguments)) {
                if ($arg->isRequired()) {
                    $missing[] = $name;
                }
                $this->arguments[$name] = $arg->getDefault();
            }
        }
        if ($missing !== []) {
            throw new \RuntimeException(sprintf('Not enough arguments (missing: "%s").', implode(', ', $missing)));
        }
        foreach ($options as $name => $opt) {
            if (!array_key_exists($name, $this->options)) {
                $this->options[$name] = $opt->getDefault();
            }
        }
    }

    public function getArguments()
    {
        return $this->arguments;
    }

    public function getArgument(string $name)
    {
        if (!array_key_exists($name, $this->arguments)) {
            throw new \InvalidArgumentException(sprintf('The "%s" argument does not exist.', $name));
        }
        return $this->arguments[$name];
    }

    public function setArgument(string $name, $value)
    {
        $this->arguments[$name] = $value;
    }

    public function hasArgument(string $name)
    {
        return array_key_exists($name, $this->arguments);
    }

    public function getOptions()
    {
        return $this->options;
    }

    public function getOption(string $name)
    {
        if (!array_key_exists($name, $this->options)) {
            throw new \InvalidArgumentException(sprintf('The "%s" option does not exist.', $name));
        }
        return $this->options[$name];
    }

    public function setOption(string $name, $value)
    {
        $this->options[$name] = $value;
    }

    public function hasOption(string $name)
    {
        return array_key_exists($name, $this->options);
    }

    public function isInteractive()
    {
        return $this->interactive;
    }

    public function setInteractive(bool $interactive)
    {
        $this->interactive = $interactive;
    }
}
