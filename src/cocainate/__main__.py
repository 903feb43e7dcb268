try:
    from .cli import main
except KeyboardInterrupt:  # Ctrl-C while loading: nothing is held yet
    raise SystemExit(130) from None

raise SystemExit(main())
