import { Field, ObjectType } from 'type-graphql';
import { User } from '../src/entities/index.js';

@ObjectType({ description: 'Returned by every way of signing in; the refresh token is shown only here' })
export class AuthPayload {
  @Field({ description: 'JWT (HS256) for "Authorization: Bearer"' }) accessToken!: string;
  @Field({ description: 'single use: each refresh returns a new one' }) refreshToken!: string;
  @Field({ description: 'when the access token expires' }) expiresAt!: Date;
  @Field(() => User) user!: User;
}
